/* QEMU TCG plugin: counts guest instructions executed between two marker addresses.
 *
 *   qemu-system-arm ... -plugin insn_count_plugin.so,begin=0xADDR,end=0xADDR,
 *                               exclude=0xLO-0xHI,...,out=FILE[,profile=PFILE]
 *
 * Every translated block adds its instruction count to one counter (an inline add, so the
 * emulation stays fast); executing the first instruction of the `begin` marker snapshots the
 * counter and executing the `end` marker adds the difference to the total. Blocks that start
 * inside an `exclude` range (the harness's main loop and the markers themselves) are not
 * counted, so a step's count is exactly the instructions of the code under test: the engine
 * and whatever it calls, including its `bx lr`, but not the call's argument set-up. At exit
 * the totals go to FILE as key=value lines. QEMU counts *instructions*, not cycles: the
 * Cortex-M7's dual issue, load latencies and branch costs are not modelled.
 *
 * With profile=PFILE every counted block also gets a (slower) exec callback that tallies its
 * executions during steps; PFILE then lists "0xVADDR INSNS EXECUTIONS" per block, which the
 * host maps to functions and disassembly to show where a step's instructions go.
 *
 * Debian ships QEMU's plugin loader but not its header, so the few API declarations used
 * here are written out below. They match QEMU 7.2 (plugin API version 1, which still has
 * the non-per-vCPU inline ops; they were removed in API version 2, QEMU 9.0).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through, never read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);
void qemu_plugin_outs(const char *string);

PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_EXCLUDES 8

static uint64_t begin_addr, end_addr;
static uint64_t exclude_lo[MAX_EXCLUDES], exclude_hi[MAX_EXCLUDES];
static int excludes;
static char *out_path;
static char *profile_path;

/* One per translation (a block translated twice gets two; the host sums them). */
struct block_profile {
    uint64_t vaddr;
    uint64_t insns;
    uint64_t executions; /* while a step is in progress */
    struct block_profile *next;
};
static struct block_profile *profiles;

/* The guest is one vCPU (Cortex-M7), so plain counters are exact. */
static uint64_t executed;         /* every counted instruction since start-up */
static uint64_t step_start;       /* `executed` when the current step began */
static int in_step;
static uint64_t step_instructions; /* summed over completed steps */
static uint64_t steps, min_step = UINT64_MAX, max_step, unbalanced;

static void on_begin(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    if (in_step) {
        unbalanced++;
    }
    in_step = 1;
    step_start = executed;
}

static void on_end(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    if (!in_step) {
        unbalanced++;
        return;
    }
    in_step = 0;
    uint64_t n = executed - step_start;
    step_instructions += n;
    steps++;
    if (n < min_step) {
        min_step = n;
    }
    if (n > max_step) {
        max_step = n;
    }
}

static void on_block(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    if (in_step) {
        ((struct block_profile *)userdata)->executions++;
    }
}

static int excluded(uint64_t vaddr)
{
    for (int i = 0; i < excludes; i++) {
        if (vaddr >= exclude_lo[i] && vaddr < exclude_hi[i]) {
            return 1;
        }
    }
    return 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) {
        return;
    }
    uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
    if (!excluded(vaddr)) {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
        if (profile_path) {
            struct block_profile *block = calloc(1, sizeof *block);
            if (block) {
                block->vaddr = vaddr;
                block->insns = n;
                block->next = profiles;
                profiles = block;
                qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, block);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t insn_vaddr = qemu_plugin_insn_vaddr(insn);
        if (insn_vaddr == begin_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (insn_vaddr == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
    }
}

static void write_totals(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    char text[512];
    snprintf(text, sizeof text,
             "step_instructions=%" PRIu64 "\nsteps=%" PRIu64 "\nmin_step=%" PRIu64
             "\nmax_step=%" PRIu64 "\nunbalanced=%" PRIu64 "\ntotal_instructions=%" PRIu64 "\n",
             step_instructions, steps, steps ? min_step : 0, max_step, unbalanced, executed);
    FILE *f = out_path ? fopen(out_path, "w") : NULL;
    if (f) {
        fputs(text, f);
        fclose(f);
    } else {
        qemu_plugin_outs(text);
    }
    FILE *p = profile_path ? fopen(profile_path, "w") : NULL;
    if (p) {
        for (struct block_profile *block = profiles; block; block = block->next) {
            if (block->executions) {
                fprintf(p, "0x%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", block->vaddr, block->insns,
                        block->executions);
            }
        }
        fclose(p);
    }
}

static int parse_address(const char *text, uint64_t *out)
{
    char *end;
    *out = strtoull(text, &end, 0);
    return *text != '\0' && *end == '\0';
}

/* "0xLO-0xHI" (half-open) */
static int parse_range(const char *text)
{
    char *end;
    if (excludes == MAX_EXCLUDES) {
        return 0;
    }
    uint64_t lo = strtoull(text, &end, 0);
    if (end == text || *end != '-') {
        return 0;
    }
    const char *hi_text = end + 1;
    uint64_t hi = strtoull(hi_text, &end, 0);
    if (end == hi_text || *end != '\0' || hi <= lo) {
        return 0;
    }
    exclude_lo[excludes] = lo;
    exclude_hi[excludes] = hi;
    excludes++;
    return 1;
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                      char **argv)
{
    (void)info;
    int have_begin = 0, have_end = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "begin=", 6) == 0) {
            have_begin = parse_address(arg + 6, &begin_addr);
        } else if (strncmp(arg, "end=", 4) == 0) {
            have_end = parse_address(arg + 4, &end_addr);
        } else if (strncmp(arg, "exclude=", 8) == 0) {
            if (!parse_range(arg + 8)) {
                fprintf(stderr, "insn_count_plugin: bad '%s' (want exclude=0xLO-0xHI, at most %d)\n",
                        arg, MAX_EXCLUDES);
                return 1;
            }
        } else if (strncmp(arg, "out=", 4) == 0) {
            out_path = strdup(arg + 4);
        } else if (strncmp(arg, "profile=", 8) == 0) {
            profile_path = strdup(arg + 8);
        } else {
            fprintf(stderr,
                    "insn_count_plugin: unknown argument '%s' (use begin=, end=, exclude=, out=, profile=)\n",
                    arg);
            return 1;
        }
    }
    if (!have_begin || !have_end || begin_addr == end_addr) {
        fprintf(stderr, "insn_count_plugin: needs distinct begin=ADDR and end=ADDR\n");
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_totals, NULL);
    return 0;
}
