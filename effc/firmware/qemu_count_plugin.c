/*
 * qemu_count_plugin.c - exact instruction counts between firmware markers.
 *
 * A QEMU TCG plugin (plugin API version 1, QEMU 7.2). Debian ships no
 * qemu-plugin.h, so the few API functions used are declared here; the QEMU
 * binary exports them. Built by effc with `gcc -shared -fPIC`.
 *
 * Arguments: start=ADDR,stop=ADDR[,layer=ADDR] - the first instruction of
 * effc_bench_start, effc_bench_stop and effc_layer_marker.
 *
 * Every executed instruction adds 1 to a counter (inline, per instruction:
 * exact even when a block exits early). A region runs from a start marker to
 * the next stop marker; layer markers split it into segments (segment 0 is
 * what runs before the first layer marker). Output, at exit:
 *   effc-region <r> <instructions>
 *   effc-segment <r> <k> <instructions>
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
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
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

static void add_record(unsigned region, unsigned segment, uint64_t count)
{
    if (n_records == cap_records) {
        cap_records = cap_records ? 2 * cap_records : 256;
        records = realloc(records, cap_records * sizeof *records);
        if (records == NULL) {
            abort();
        }
    }
    records[n_records].region = region;
    records[n_records].segment = segment;
    records[n_records].count = count;
    n_records++;
}

static void on_marker(unsigned int vcpu, void *userdata)
{
    const uintptr_t kind = (uintptr_t)userdata;
    (void)vcpu;
    if (kind == MARK_START) {
        in_region = 1;
        region_begin = segment_begin = insn_count;
        segment_index = 0;
    } else if (in_region && kind == MARK_LAYER) {
        add_record(region_index, segment_index, insn_count - segment_begin);
        segment_begin = insn_count;
        segment_index++;
    } else if (in_region && kind == MARK_STOP) {
        add_record(region_index, segment_index, insn_count - segment_begin);
        add_record(region_index, UINT32_MAX, insn_count - region_begin);
        in_region = 0;
        region_index++;
    }
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    const size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const uint64_t va = qemu_plugin_insn_vaddr(insn);
        uintptr_t kind = 0;
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &insn_count, 1);
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
}

static int parse_addr(const char *arg, const char *key, uint64_t *out)
{
    const size_t n = strlen(key);
    if (strncmp(arg, key, n) != 0 || arg[n] != '=') {
        return 0;
    }
    *out = strtoull(arg + n + 1, NULL, 0) & ~(uint64_t)1; /* drop the Thumb bit */
    return 1;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (!parse_addr(argv[i], "start", &addr_start) &&
            !parse_addr(argv[i], "stop", &addr_stop) &&
            !parse_addr(argv[i], "layer", &addr_layer)) {
            fprintf(stderr, "effc count plugin: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (addr_start == 0 || addr_stop == 0) {
        fprintf(stderr, "effc count plugin: start= and stop= are required\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
