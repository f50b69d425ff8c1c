// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The hook table (include/tthooks.h) against the BPF object the daemon
 * really loads, the one embedded in its skeleton: every program the table
 * names is in it, of the kind the table says, and every program in it is
 * named by exactly one row.  Opening an object needs no root: nothing is
 * loaded.
 */
#include <string.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include "modes.h"
#include "tcptrail.skel.h"
#include "tt_test.h"

static struct bpf_object *open_embedded(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "tcptrail_bpf");
	const void *data;
	size_t size;

	data = tcptrail_bpf__elf_bytes(&size);
	return data ? bpf_object__open_mem(data, size, &opts) : NULL;
}

/* Does the program's type (from its SEC()) make it a hook of this kind? */
static bool kind_is(const struct bpf_program *p, enum tt_hook_kind kind)
{
	enum bpf_prog_type t = bpf_program__type(p);
	enum bpf_attach_type a = bpf_program__expected_attach_type(p);

	switch (kind) {
	case TT_KIND_FENTRY:
		return t == BPF_PROG_TYPE_TRACING && (a == BPF_TRACE_FENTRY || a == BPF_TRACE_FEXIT);
	case TT_KIND_TP_BTF:
		return t == BPF_PROG_TYPE_TRACING && a == BPF_TRACE_RAW_TP;
	case TT_KIND_KPROBE: return t == BPF_PROG_TYPE_KPROBE;
	case TT_KIND_TRACEPOINT: return t == BPF_PROG_TYPE_TRACEPOINT;
	case TT_KIND_CGROUP_SKB: return t == BPF_PROG_TYPE_CGROUP_SKB;
	case TT_KIND_SOCK_OPS: return t == BPF_PROG_TYPE_SOCK_OPS;
	case TT_KIND_RULE: return false;	/* has no program */
	}
	return false;
}

TEST(bpfobj_every_program_in_the_hook_table_is_in_the_object)
{
	struct bpf_object *obj = open_embedded();
	int named = 0;

	REQUIRE(obj);
	for (size_t i = 0; i < tt_n_variants; i++) {
		const struct tt_variant *v = &tt_variants[i];

		/* the rule alone has no program; every other row has one at least */
		CHECK((v->kind == TT_KIND_RULE) == (v->progs[0] == NULL));
		/* at most TT_VARIANT_PROGS, so the list ends and live.c's links fit */
		REQUIRE(v->progs[TT_VARIANT_PROGS] == NULL);
		for (int j = 0; v->progs[j]; j++) {
			struct bpf_program *p = bpf_object__find_program_by_name(obj, v->progs[j]);

			named++;
			if (!p) {
				fprintf(stderr, "    %s (%s) is not in the BPF object\n", v->progs[j],
					v->name);
				CHECK(p != NULL);
				continue;
			}
			if (!kind_is(p, v->kind)) {
				fprintf(stderr, "    %s is SEC(\"%s\"), not a %s hook as %s says\n",
					v->progs[j], bpf_program__section_name(p),
					tt_kind_name(v->kind), v->name);
				CHECK(kind_is(p, v->kind));
			}
		}
	}
	CHECK(named >= TT_CAP_MAX);
	bpf_object__close(obj);
}

TEST(bpfobj_every_program_in_the_object_is_in_the_hook_table)
{
	struct bpf_object *obj = open_embedded();
	struct bpf_program *p;
	int programs = 0;

	REQUIRE(obj);
	bpf_object__for_each_program(p, obj) {
		int rows = 0;

		programs++;
		for (size_t i = 0; i < tt_n_variants; i++)
			for (int j = 0; tt_variants[i].progs[j]; j++)
				rows += !strcmp(tt_variants[i].progs[j], bpf_program__name(p));
		if (rows != 1) {
			fprintf(stderr, "    program %s (SEC(\"%s\")) is named by %d rows of the "
				"hook table, not 1\n", bpf_program__name(p),
				bpf_program__section_name(p), rows);
			CHECK_EQ_INT(rows, 1);
		}
	}
	/* 27 programs when bpf/ was split by capability: none went missing */
	CHECK(programs >= 27);
	bpf_object__close(obj);
}

/*
 * The capability files share their maps through extern declarations: the
 * link must leave one of each, the ones userspace reads by name.
 */
TEST(bpfobj_linked_maps_are_one_each)
{
	static const char *const shared[] = {
		"events", "lost", "owned", "owned_listeners", "tw_handover", "nest_caught",
	};
	struct bpf_object *obj = open_embedded();
	struct bpf_map *m;
	int ringbufs = 0;

	REQUIRE(obj);
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		int n = 0;

		bpf_object__for_each_map(m, obj)
			n += !strcmp(bpf_map__name(m), shared[i]);
		if (n != 1)
			fprintf(stderr, "    map %s: %d in the object\n", shared[i], n);
		CHECK_EQ_INT(n, 1);
	}
	bpf_object__for_each_map(m, obj)
		ringbufs += bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF;
	CHECK_EQ_INT(ringbufs, 1);
	bpf_object__close(obj);
}

TEST(bpfobj_hook_ids_come_from_the_table)
{
	int max = TT_HOOK_SOCK_DIAG;

	for (size_t i = 0; i < tt_n_variants; i++) {
		const struct tt_variant *v = &tt_variants[i];
		bool sets_state = v->cap == TT_CAP_TRANSITIONS || v->cap == TT_CAP_SOCK_OPS;

		CHECK(v->hook_id > TT_HOOK_NONE && v->hook_id != TT_HOOK_SOCK_DIAG);
		if (v->hook_id > max)
			max = v->hook_id;
		/* what the engine's from_rule() asks */
		CHECK_EQ_INT(tt_hook_sets_state(v->hook_id), sets_state);
		CHECK(tt_variant_of_hook(v->hook_id) != NULL);
		/* an id two rows share means the same to the engine: one capability */
		CHECK_EQ_INT(tt_variant_of_hook(v->hook_id)->cap, v->cap);
	}
	CHECK_EQ_INT(TT_HOOK_MAX, max + 1);
	CHECK(!tt_hook_sets_state(TT_HOOK_SOCK_DIAG));
	CHECK(!tt_hook_sets_state(TT_HOOK_NONE));
	CHECK(tt_variant_of_hook(TT_HOOK_SOCK_DIAG) == NULL);
	/* the ids captures already hold, unchanged */
	CHECK_EQ_INT(TT_HOOK_TP_BTF_SET_STATE, 1);
	CHECK_EQ_INT(TT_HOOK_TP_ACCEPT, 5);
	CHECK_EQ_INT(TT_HOOK_CGROUP_SKB, 9);
	CHECK_EQ_INT(TT_HOOK_TP_RETRANS, 12);
	CHECK_EQ_INT(TT_HOOK_TRACEPOINT_RETRANS, 12);
	CHECK_EQ_INT(TT_HOOK_SOCKOPS_STATE, 14);
	CHECK_EQ_INT(TT_HOOK_FEXIT_ACCEPT, 15);
	CHECK_EQ_INT(TT_HOOK_KPROBE_ACCEPT, 16);
	CHECK_EQ_INT(TT_HOOK_MAX, 17);
}

/*
 * The programs that call a kfunc, from the object's relocations: a call to
 * an undefined symbol, in the program whose symbol spans it.
 */
static int kfunc_callers(const char *callers[], int max)
{
	Elf_Scn *scn = NULL, *symscn = NULL;
	Elf_Data *syms;
	GElf_Shdr sh;
	size_t size;
	const void *data = tcptrail_bpf__elf_bytes(&size);
	Elf *elf;
	int n = 0;

	elf_version(EV_CURRENT);
	elf = data ? elf_memory((char *)data, size) : NULL;
	if (!elf)
		return -1;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			symscn = scn;
	if (!symscn || !(syms = elf_getdata(symscn, NULL))) {
		elf_end(elf);
		return -1;
	}
	gelf_getshdr(symscn, &sh);
	size_t nsyms = sh.sh_size / sh.sh_entsize, strtab = sh.sh_link;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *rels;
		GElf_Shdr rsh;

		Elf_Data *code;

		if (!gelf_getshdr(scn, &rsh) || rsh.sh_type != SHT_REL ||
		    !(rels = elf_getdata(scn, NULL)) ||
		    !(code = elf_getdata(elf_getscn(elf, rsh.sh_info), NULL)))
			continue;
		for (size_t r = 0; r < rsh.sh_size / rsh.sh_entsize; r++) {
			GElf_Rel rel;
			GElf_Sym target;

			/* an extern (undefined) called: a kconfig extern is loaded instead */
			if (!gelf_getrel(rels, (int)r, &rel) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(rel.r_info), &target) ||
			    target.st_shndx != SHN_UNDEF || rel.r_offset >= code->d_size ||
			    ((const unsigned char *)code->d_buf)[rel.r_offset] != (BPF_JMP | BPF_CALL))
				continue;
			/* the program in the section relocated that holds the call */
			for (size_t k = 0; k < nsyms; k++) {
				GElf_Sym prog;
				const char *name;

				if (!gelf_getsym(syms, (int)k, &prog) ||
				    GELF_ST_TYPE(prog.st_info) != STT_FUNC ||
				    prog.st_shndx != rsh.sh_info ||
				    rel.r_offset < prog.st_value ||
				    rel.r_offset >= prog.st_value + prog.st_size)
					continue;
				name = elf_strptr(elf, strtab, prog.st_name);
				bool seen = false;

				for (int i = 0; i < n; i++)
					seen |= !strcmp(callers[i], name);
				if (!seen && n < max)
					callers[n++] = strdup(name);
			}
		}
	}
	elf_end(elf);
	return n;
}

/*
 * A kfunc call is only in a program that user/live.c leaves unloaded where
 * the kernel lacks the kfunc: 5.13 to 5.15 refuse a program holding an
 * unresolved one, dead code or not.  The typed accept tracepoints are those.
 */
TEST(bpfobj_kfunc_calls_are_only_in_programs_loaded_where_the_kernel_has_them)
{
	static const char *const allowed[] = { "tp_exit_accept4_typed", "tp_exit_accept_typed" };
	const char *callers[16];
	int n = kfunc_callers(callers, 16);
	int found = 0;

	REQUIRE(n >= 0);
	for (int i = 0; i < n; i++) {
		bool ok = false;

		for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++)
			ok |= !strcmp(callers[i], allowed[j]);
		if (!ok)
			fprintf(stderr, "    program %s calls a kfunc, and older kernels load it\n",
				callers[i]);
		CHECK(ok);
		found += ok;
		free((void *)callers[i]);
	}
	/* the typed pair does call one: else this test finds nothing */
	CHECK_EQ_INT(found, 2);
}
