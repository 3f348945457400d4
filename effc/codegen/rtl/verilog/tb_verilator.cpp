// Verilator testbench of effc_accel: every sample of one run in one process.
// usage: Vtb +weights=W.hex IN.bin OUT.bin N IN_ADDR IN_SIZE OUT_ADDR OUT_SIZE
// Writes OUT.bin (N * OUT_SIZE bytes) and prints one line per descriptor and sample:
// "cycles SAMPLE DESC CYCLES", then "total SAMPLE CYCLES".
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "Veffc_accel.h"
#include "verilated.h"

static Veffc_accel *top;
static unsigned long long ticks = 0;

static void tick() {
    top->clk = 0;
    top->eval();
    top->clk = 1;
    top->eval();
    ticks++;
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    std::vector<const char *> pos;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '+') pos.push_back(argv[i]);
    if (pos.size() != 7) {
        std::fprintf(stderr, "usage: Vtb +weights=W.hex IN OUT N IN_ADDR IN_SIZE OUT_ADDR OUT_SIZE\n");
        return 2;
    }
    long n = std::atol(pos[2]), in_addr = std::atol(pos[3]), in_size = std::atol(pos[4]);
    long out_addr = std::atol(pos[5]), out_size = std::atol(pos[6]);
    std::vector<signed char> in(n * in_size), out(n * out_size);
    FILE *f = std::fopen(pos[0], "rb");
    if (!f || std::fread(in.data(), 1, in.size(), f) != in.size()) return 3;
    std::fclose(f);
    top = new Veffc_accel;
    top->rst = 1; top->start = 0; top->host_w_we = 0; top->host_a_we = 0;
    tick(); tick();
    top->rst = 0;
    for (long s = 0; s < n; s++) {
        for (long i = 0; i < in_size; i++) {
            top->host_a_we = 1;
            top->host_a_addr = in_addr + i;
            top->host_a_data = (unsigned char)in[s * in_size + i];
            tick();
        }
        top->host_a_we = 0;
        top->start = 1;
        tick();
        top->start = 0;
        unsigned long long t0 = ticks, tdesc = ticks;
        int desc = 0;
        while (top->busy) {
            tick();
            if (top->desc_index != desc || !top->busy) {
                std::printf("cycles %ld %d %llu\n", s, desc, ticks - tdesc);
                tdesc = ticks;
                desc = top->desc_index;
            }
            if (ticks - t0 > 4000000000ULL) { std::fprintf(stderr, "timeout\n"); return 4; }
        }
        std::printf("total %ld %llu\n", s, ticks - t0);
        if (top->error) { std::fprintf(stderr, "shadow overrun (period too short)\n"); return 5; }
        for (long i = 0; i < out_size; i++) {
            top->host_a_addr = out_addr + i;
            tick();
            out[s * out_size + i] = (signed char)top->host_a_rdata;
        }
    }
    f = std::fopen(pos[1], "wb");
    if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size()) return 3;
    std::fclose(f);
    top->final();
    delete top;
    return 0;
}
