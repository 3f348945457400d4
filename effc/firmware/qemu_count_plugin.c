/*
 * qemu_count_plugin.c - exact instruction counts between firmware markers.
 *
 * A QEMU TCG plugin (plugin API version 1, QEMU 7.2). Debian ships no
 * qemu-plugin.h, so the few API functions used are declared here; the QEMU
 * binary exports them. Built by effc with `gcc -shared -fPIC`.
 *
 * Arguments: start=ADDR,stop=ADDR[,layer=ADDR][,pcs=1] - the first
 * instruction of effc_bench_start, effc_bench_stop and effc_layer_marker;
 * pcs=1 also counts every instruction address of the first region.
 *
 * Every executed instruction adds 1 to a counter (inline, per instruction:
 * exact even when a block exits early). A region runs from a start marker to
 * the next stop marker; layer markers split it into segments (segment 0 is
 * what runs before the first layer marker). Output, at exit:
 *   effc-region <r> <instructions>
 *   effc-segment <r> <k> <instructions>
 * and with pcs=1, for region 0, per segment and instruction address that ran:
 *   effc-pc <k> <address hex> <executions> <taken>
 * where taken counts how often the next instruction to run was not the one
 * after it (a taken branch): QEMU ends a translation block at every branch,
 * and a callback at each block's start sees where the previous one left.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of qemu-plugin.h (API version 1) used here ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                          qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* ---- counting ---- */
enum { MARK_START = 1, MARK_STOP = 2, MARK_LAYER = 3 };

static uint64_t insn_count;
static uint64_t addr_start, addr_stop, addr_layer;
static int in_region;
static uint64_t region_begin, segment_begin;
static unsigned region_index, segment_index;

typedef struct {
    unsigned region, segment;
    uint64_t count;
} record;

static record *records;
static size_t n_records, cap_records;

static void *grow(void *p, size_t *cap, size_t item)
{
    *cap = *cap ? 2 * *cap : 256;
    p = realloc(p, *cap * item);
    if (p == NULL) {
        abort();
    }
    return p;
}

static void add_record(unsigned region, unsigned segment, uint64_t count)
{
    if (n_records == cap_records) {
        records = grow(records, &cap_records, sizeof *records);
    }
    records[n_records].region = region;
    records[n_records].segment = segment;
    records[n_records].count = count;
    n_records++;
}

/* ---- per-address counts (pcs=1) ---- */
typedef struct {
    uint64_t vaddr;
    uint64_t count;                  /* executions (an inline counter points here) */
    uint64_t taken;                  /* the next instruction run was not vaddr + size */
    uint64_t base_count, base_taken; /* the values at the segment's start */
    uint64_t size;
} pc_entry;

typedef struct {
    uint64_t start;  /* the block's first instruction */
    pc_entry *last;  /* its last instruction */
} tb_info;

enum { PC_CHUNK = 4096, PC_SLOTS = 1 << 18 };
static int count_pcs;
static pc_entry **pc_chunks; /* entries never move: inline counters point at them */
static size_t n_pcs, n_chunks, cap_chunks;
static int32_t *pc_slots;    /* open addressing: entry index + 1, 0 = empty */
static tb_info **tbs;
static size_t n_tbs, cap_tbs;
static const tb_info *prev_tb;

static pc_entry *pc_at(size_t i)
{
    return &pc_chunks[i / PC_CHUNK][i % PC_CHUNK];
}

static pc_entry *pc_entry_of(uint64_t vaddr, uint64_t size)
{
    size_t h = (size_t)((vaddr >> 1) * 2654435761u) & (PC_SLOTS - 1);
    pc_entry *e;
    while (pc_slots[h] != 0) {
        e = pc_at((size_t)pc_slots[h] - 1);
        if (e->vaddr == vaddr) {
            return e;
        }
        h = (h + 1) & (PC_SLOTS - 1);
    }
    if (n_pcs >= PC_SLOTS / 2) {
        abort(); /* far more code than any firmware here */
    }
    if (n_pcs == n_chunks * PC_CHUNK) {
        if (n_chunks == cap_chunks) {
            pc_chunks = grow(pc_chunks, &cap_chunks, sizeof *pc_chunks);
        }
        pc_chunks[n_chunks] = calloc(PC_CHUNK, sizeof(pc_entry));
        if (pc_chunks[n_chunks++] == NULL) {
            abort();
        }
    }
    e = pc_at(n_pcs++);
    e->vaddr = vaddr;
    e->size = size;
    pc_slots[h] = (int32_t)n_pcs;
    return e;
}

/* Emits the counts since the segment's start and starts the next segment. */
static void pc_segment(unsigned segment, int emit)
{
    char line[128];
    size_t i;
    for (i = 0; i < n_pcs; i++) {
        pc_entry *e = pc_at(i);
        const uint64_t n = e->count - e->base_count, t = e->taken - e->base_taken;
        if (emit && n != 0) {
            snprintf(line, sizeof line, "effc-pc %u %" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
                     segment, e->vaddr, n, t);
            qemu_plugin_outs(line);
        }
        e->base_count = e->count;
        e->base_taken = e->taken;
    }
}

static void on_tb_exec(unsigned int vcpu, void *userdata)
{
    const tb_info *tb = (const tb_info *)userdata;
    (void)vcpu;
    if (prev_tb != NULL && tb->start != prev_tb->last->vaddr + prev_tb->last->size) {
        prev_tb->last->taken++;
    }
    prev_tb = tb;
}

static void on_marker(unsigned int vcpu, void *userdata)
{
    const uintptr_t kind = (uintptr_t)userdata;
    const int pcs = count_pcs && region_index == 0;
    (void)vcpu;
    if (kind == MARK_START) {
        in_region = 1;
        region_begin = segment_begin = insn_count;
        segment_index = 0;
        if (pcs) {
            pc_segment(0, 0);
        }
    } else if (in_region && kind == MARK_LAYER) {
        add_record(region_index, segment_index, insn_count - segment_begin);
        if (pcs) {
            pc_segment(segment_index, 1);
        }
        segment_begin = insn_count;
        segment_index++;
    } else if (in_region && kind == MARK_STOP) {
        add_record(region_index, segment_index, insn_count - segment_begin);
        add_record(region_index, UINT32_MAX, insn_count - region_begin);
        if (pcs) {
            pc_segment(segment_index, 1);
        }
        in_region = 0;
        region_index++;
    }
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    const size_t n = qemu_plugin_tb_n_insns(tb);
    tb_info *info = NULL;
    size_t i;
    (void)id;
    if (count_pcs && n > 0) {
        info = malloc(sizeof *info);
        if (info == NULL) {
            abort();
        }
        if (n_tbs == cap_tbs) {
            tbs = grow(tbs, &cap_tbs, sizeof *tbs);
        }
        tbs[n_tbs++] = info;
        info->start = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, info);
    }
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const uint64_t va = qemu_plugin_insn_vaddr(insn);
        uintptr_t kind = 0;
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &insn_count, 1);
        if (count_pcs) {
            pc_entry *e = pc_entry_of(va, qemu_plugin_insn_size(insn));
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       &e->count, 1);
            info->last = e;
        }
        if (va == addr_start) {
            kind = MARK_START;
        } else if (va == addr_stop) {
            kind = MARK_STOP;
        } else if (addr_layer != 0 && va == addr_layer) {
            kind = MARK_LAYER;
        }
        if (kind != 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)kind);
        }
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *userdata)
{
    char line[128];
    size_t i;
    (void)id;
    (void)userdata;
    for (i = 0; i < n_records; i++) {
        const record *r = &records[i];
        if (r->segment == UINT32_MAX) {
            snprintf(line, sizeof line, "effc-region %u %" PRIu64 "\n", r->region, r->count);
        } else {
            snprintf(line, sizeof line, "effc-segment %u %u %" PRIu64 "\n", r->region,
                     r->segment, r->count);
        }
        qemu_plugin_outs(line);
    }
    snprintf(line, sizeof line, "effc-total %" PRIu64 "\n", insn_count);
    qemu_plugin_outs(line);
    free(records);
    for (i = 0; i < n_chunks; i++) {
        free(pc_chunks[i]);
    }
    free(pc_chunks);
    for (i = 0; i < n_tbs; i++) {
        free(tbs[i]);
    }
    free(tbs);
    free(pc_slots);
}

static int parse_value(const char *arg, const char *key, uint64_t *out)
{
    const size_t n = strlen(key);
    if (strncmp(arg, key, n) != 0 || arg[n] != '=') {
        return 0;
    }
    *out = strtoull(arg + n + 1, NULL, 0);
    return 1;
}

static int parse_addr(const char *arg, const char *key, uint64_t *out)
{
    if (!parse_value(arg, key, out)) {
        return 0;
    }
    *out &= ~(uint64_t)1; /* drop the Thumb bit */
    return 1;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv)
{
    int i;
    uint64_t pcs = 0;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (!parse_addr(argv[i], "start", &addr_start) &&
            !parse_addr(argv[i], "stop", &addr_stop) &&
            !parse_addr(argv[i], "layer", &addr_layer) && !parse_value(argv[i], "pcs", &pcs)) {
            fprintf(stderr, "effc count plugin: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (addr_start == 0 || addr_stop == 0) {
        fprintf(stderr, "effc count plugin: start= and stop= are required\n");
        return -1;
    }
    count_pcs = pcs != 0;
    if (count_pcs) {
        pc_slots = calloc(PC_SLOTS, sizeof *pc_slots);
        if (pc_slots == NULL) {
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
