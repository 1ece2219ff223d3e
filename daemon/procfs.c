/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for /proc/PID/{smaps,maps,status,cgroup,stat}.
 *
 * Every parser works on (buf, len) and never reads outside it: the buffer does
 * not have to be NUL-terminated and may contain NUL bytes or any other garbage
 * (the parsers are fuzzed). Numbers are parsed by hand (no strtoull) so that
 * signs, "0x" prefixes and leading blanks inside a field are rejected.
 */
#include "procfs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A view into the input buffer: [p, e). */
struct span {
	const char *p, *e;
};

static bool span_empty(struct span s)
{
	return s.p >= s.e;
}

static size_t span_len(struct span s)
{
	return (size_t)(s.e - s.p);
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return span_len(s) == n && memcmp(s.p, lit, n) == 0;
}

static bool span_startswith(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return span_len(s) >= n && memcmp(s.p, lit, n) == 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static struct span span_trim(struct span s)
{
	while (s.p < s.e && is_blank(*s.p))
		s.p++;
	while (s.e > s.p && (is_blank(s.e[-1]) || s.e[-1] == '\r'))
		s.e--;
	return s;
}

/* Next line of [*pos, end) without its '\n'; false at the end of the buffer. */
static bool next_line(const char **pos, const char *end, struct span *line)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	line->p = p;
	line->e = nl ? nl : end;
	*pos = nl ? nl + 1 : end;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a hex number at *p (advanced past it). At least one digit, no overflow. */
static bool parse_hex(const char **p, const char *e, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	while (s < e && (d = hexval(*s)) >= 0) {
		if (v > (UINT64_MAX >> 4))
			return false;
		v = (v << 4) | (uint64_t)d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*ret = v;
	return true;
}

/*
 * Parse a decimal number at *p (advanced past it). At least one digit. On
 * overflow either fail or, with saturate, clamp to UINT64_MAX.
 */
static bool parse_dec(const char **p, const char *e, bool saturate, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	bool overflow = false;

	while (s < e && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
		s++;
	}
	if (s == *p)
		return false;
	if (overflow) {
		if (!saturate)
			return false;
		v = UINT64_MAX;
	}
	*p = s;
	*ret = v;
	return true;
}

static bool expect_char(const char **p, const char *e, char c)
{
	if (*p >= e || **p != c)
		return false;
	(*p)++;
	return true;
}

/* ---- maps / smaps ------------------------------------------------------ */

static int vma_list_push(struct vma_list *l, const struct vma *v)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct vma *nv;

		if (ncap < l->cap || ncap > SIZE_MAX / sizeof(*nv))
			return -ENOMEM;
		nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = *v;
	return 0;
}

void vma_list_free(struct vma_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Does the line start like a VMA header ("hex-")? */
static bool looks_like_header(struct span l)
{
	const char *p = l.p;

	while (p < l.e && hexval(*p) >= 0)
		p++;
	return p > l.p && p < l.e && *p == '-';
}

static bool name_is_special(struct span name)
{
	/*
	 * Kernel-provided pseudo mappings: [vdso], [vvar], [vvar_vclock],
	 * [vsyscall], [uprobes], [sigpage], [vectors], ... Anything bracketed
	 * that is not heap, stack or a user-named anonymous region.
	 */
	if (span_empty(name) || *name.p != '[')
		return false;
	if (span_eq(name, "[heap]") || span_startswith(name, "[stack") ||
	    span_startswith(name, "[anon:") || span_startswith(name, "[anon_shmem:"))
		return false;
	return true;
}

static uint32_t classify(uint32_t flags, uint64_t inode, struct span name)
{
	bool shared = flags & VMA_SHARED;

	if (name_is_special(name)) {
		flags |= VMA_SPECIAL;
	} else if (!shared) {
		/*
		 * Private anonymous memory. A private mapping of /dev/zero is
		 * anonymous memory too (the kernel calls vma_set_anonymous()),
		 * even though it shows the device inode.
		 */
		if ((inode == 0 && (span_empty(name) || *name.p == '[')) ||
		    span_eq(name, "/dev/zero"))
			flags |= VMA_ANON;
	} else if (span_startswith(name, "/dev/zero") || span_startswith(name, "/memfd:") ||
		   span_startswith(name, "/SYSV") || span_startswith(name, "/dev/shm/") ||
		   span_startswith(name, "[anon_shmem:")) {
		flags |= VMA_SHMEM;
	}
	return flags;
}

static const uint32_t perm_flags[4] = {VMA_READ, VMA_WRITE, VMA_EXEC, VMA_SHARED};

/* "start-end perms offset dev inode [name]" */
static int parse_header(struct span l, struct vma *v)
{
	const char *p = l.p, *e = l.e;
	uint64_t start, end, off, maj, min, inode;
	uint32_t flags = 0;
	struct span name;

	if (!parse_hex(&p, e, &start) || !expect_char(&p, e, '-') || !parse_hex(&p, e, &end) ||
	    !expect_char(&p, e, ' '))
		return -EINVAL;
	if (end < start)
		return -EINVAL;

	if (e - p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) { /* "rwxs": each letter or '-' ('p' for s) */
		if (p[i] == "rwxs"[i])
			flags |= perm_flags[i];
		else if (p[i] != "---p"[i])
			return -EINVAL;
	}
	p += 4;

	if (!expect_char(&p, e, ' ') || !parse_hex(&p, e, &off) || !expect_char(&p, e, ' ') ||
	    !parse_hex(&p, e, &maj) || !expect_char(&p, e, ':') || !parse_hex(&p, e, &min) ||
	    !expect_char(&p, e, ' ') || !parse_dec(&p, e, false, &inode))
		return -EINVAL;
	/* The inode is followed by the end of the line or padding + name. */
	if (p < e && !is_blank(*p) && *p != '\r')
		return -EINVAL;

	name.p = p;
	name.e = e;
	name = span_trim(name);

	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->inode = inode;
	v->flags = classify(flags, inode, name);
	return 0;
}

static uint64_t kb_to_bytes(uint64_t kb)
{
	if (kb > UINT64_MAX / 1024)
		return UINT64_MAX;
	return kb * 1024;
}

/* "<value> kB" (the unit may be absent). Saturates huge values. */
static int parse_kb_value(struct span val, uint64_t *ret)
{
	const char *p = val.p;
	uint64_t kb;
	struct span rest;

	if (!parse_dec(&p, val.e, true, &kb))
		return -EINVAL;
	rest.p = p;
	rest.e = val.e;
	rest = span_trim(rest);
	if (!span_empty(rest) && !span_eq(rest, "kB"))
		return -EINVAL;
	*ret = kb_to_bytes(kb);
	return 0;
}

static void parse_vmflags(struct span val, struct vma *v)
{
	const char *p = val.p;

	while (p < val.e) {
		struct span tok;

		while (p < val.e && is_blank(*p))
			p++;
		tok.p = p;
		while (p < val.e && !is_blank(*p))
			p++;
		tok.e = p;
		if (span_eq(tok, "hg"))
			v->flags |= VMA_HG;
		else if (span_eq(tok, "nh"))
			v->flags |= VMA_NH;
		else if (span_eq(tok, "io") || span_eq(tok, "pf"))
			v->flags |= VMA_SPECIAL;
	}
}

static bool is_field_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/*
 * Split "Name:   value" into name and trimmed value. False if the line does
 * not have that shape.
 */
static bool split_field(struct span l, struct span *name, struct span *val)
{
	const char *p = l.p;

	while (p < l.e && is_field_name_char(*p))
		p++;
	if (p == l.p || p >= l.e || *p != ':')
		return false;
	name->p = l.p;
	name->e = p;
	val->p = p + 1;
	val->e = l.e;
	*val = span_trim(*val);
	return true;
}

/* One smaps field line for v. Unknown fields are ignored. */
static int parse_smaps_field(struct span name, struct span val, struct vma *v)
{
	uint64_t *dst = NULL;

	if (span_eq(name, "Rss"))
		dst = &v->rss;
	else if (span_eq(name, "Anonymous"))
		dst = &v->anonymous;
	else if (span_eq(name, "AnonHugePages"))
		dst = &v->anon_huge;
	else if (span_eq(name, "ShmemPmdMapped"))
		dst = &v->shmem_pmd_mapped;
	else if (span_eq(name, "Referenced"))
		dst = &v->referenced;

	if (dst)
		return parse_kb_value(val, dst);

	if (span_eq(name, "THPeligible")) {
		const char *p = val.p;
		uint64_t x;

		if (!parse_dec(&p, val.e, true, &x) || p != val.e)
			return -EINVAL;
		if (x == 1)
			v->flags |= VMA_THP_ELIGIBLE;
		return 0;
	}
	if (span_eq(name, "VmFlags"))
		parse_vmflags(val, v);
	return 0;
}

static int parse_vmas(const char *buf, size_t len, struct vma_list *out, bool smaps)
{
	const char *pos = buf, *end;
	struct span line;
	struct vma cur;
	bool have = false;
	int r = 0;

	if (!buf)
		return len ? -EINVAL : 0;
	end = buf + len;

	while (next_line(&pos, end, &line)) {
		struct span t = span_trim(line), name, val;

		if (span_empty(t))
			continue;
		if (looks_like_header(line)) {
			if (have) {
				r = vma_list_push(out, &cur);
				have = false;
				if (r < 0)
					return r;
			}
			r = parse_header(line, &cur);
			if (r < 0)
				return r;
			have = true;
			continue;
		}
		/* A field line: only valid in smaps, below a header. */
		if (!smaps || !have || !split_field(line, &name, &val)) {
			r = -EINVAL;
			break;
		}
		cur.flags |= VMA_HAS_SMAPS;
		r = parse_smaps_field(name, val, &cur);
		if (r < 0)
			break;
	}

	/* Keep the VMA whose header was parsed, even if a field of it was bad. */
	if (have) {
		int r2 = vma_list_push(out, &cur);
		if (r2 < 0)
			return r2;
	}
	return r;
}

int smaps_parse(const char *buf, size_t len, struct vma_list *out)
{
	return parse_vmas(buf, len, out, true);
}

int maps_parse(const char *buf, size_t len, struct vma_list *out)
{
	return parse_vmas(buf, len, out, false);
}

/* ---- status ------------------------------------------------------------- */

/* "R E S F" of a Uid:/Gid: line: the first three (real, effective, saved)
 * into ids; the fourth (filesystem) is read and not kept. */
static bool parse_ids(struct span val, uint32_t ids[3])
{
	const char *p = val.p;
	uint64_t x;

	for (int i = 0; i < 4; i++) {
		while (p < val.e && is_blank(*p))
			p++;
		if (!parse_dec(&p, val.e, false, &x) || x > UINT32_MAX)
			return false;
		if (i < 3)
			ids[i] = (uint32_t)x;
		if (p < val.e && !is_blank(*p))
			return false;
	}
	while (p < val.e && is_blank(*p))
		p++;
	return p == val.e;
}

/* The real, effective and saved uids (is_uid) or gids of out. */
static void set_ids(struct proc_status *out, bool is_uid, const uint32_t ids[3])
{
	if (is_uid) {
		out->uid = ids[0];
		out->euid = ids[1];
		out->suid = ids[2];
	} else {
		out->gid = ids[0];
		out->egid = ids[1];
		out->sgid = ids[2];
	}
}

int status_parse(const char *buf, size_t len, struct proc_status *out)
{
	const char *pos = buf, *end;
	struct span line;
	bool have_uid = false, have_gid = false;

	memset(out, 0, sizeof(*out));
	out->thp_enabled = -1;
	if (!buf)
		return -EINVAL;
	end = buf + len;

	while (next_line(&pos, end, &line)) {
		struct span name, val;
		const char *p;
		uint64_t x;

		if (!split_field(line, &name, &val))
			continue;
		p = val.p;
		if (span_eq(name, "Name")) {
			size_t n = MIN(span_len(val), sizeof(out->name) - 1);
			memcpy(out->name, val.p, n);
			out->name[n] = '\0';
		} else if (span_eq(name, "Uid") || span_eq(name, "Gid")) {
			bool is_uid = span_eq(name, "Uid");
			uint32_t ids[3];
			if (!parse_ids(val, ids))
				return -EINVAL;
			set_ids(out, is_uid, ids);
			*(is_uid ? &have_uid : &have_gid) = true;
		} else if (span_eq(name, "THP_enabled")) {
			if (parse_dec(&p, val.e, false, &x) && p == val.e && x <= 1)
				out->thp_enabled = (int)x;
		} else if (span_eq(name, "RssAnon")) {
			(void)parse_kb_value(val, &out->rss_anon);
		} else if (span_eq(name, "RssShmem")) {
			(void)parse_kb_value(val, &out->rss_shmem);
		}
	}
	return have_uid && have_gid ? 0 : -EINVAL;
}

/* ---- cgroup ------------------------------------------------------------- */

static bool controllers_have_memory(struct span ctrl)
{
	const char *p = ctrl.p;

	while (p <= ctrl.e) {
		const char *c = memchr(p, ',', (size_t)(ctrl.e - p));
		struct span tok = {p, c ? c : ctrl.e};

		if (span_eq(tok, "memory"))
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

int cgroup_memory_path(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *pos = buf, *end;
	struct span line, v1 = {NULL, NULL}, v2 = {NULL, NULL}, *best;
	bool have_v1 = false, have_v2 = false;

	if (!buf)
		return -ENOENT;
	end = buf + len;

	while (next_line(&pos, end, &line)) {
		const char *p = line.p, *c1, *c2;
		uint64_t id;
		struct span ctrl, path;

		if (!parse_dec(&p, line.e, false, &id) || p >= line.e || *p != ':')
			continue;
		c1 = p;
		c2 = memchr(c1 + 1, ':', (size_t)(line.e - (c1 + 1)));
		if (!c2)
			continue;
		ctrl.p = c1 + 1;
		ctrl.e = c2;
		/* The path is the rest of the line: it may contain ':'. */
		path.p = c2 + 1;
		path.e = line.e;
		if (path.e > path.p && path.e[-1] == '\r')
			path.e--;
		if (span_empty(path))
			continue;
		if (!have_v1 && controllers_have_memory(ctrl)) {
			v1 = path;
			have_v1 = true;
		} else if (!have_v2 && id == 0 && span_empty(ctrl)) {
			v2 = path;
			have_v2 = true;
		}
	}

	if (have_v1)
		best = &v1;
	else if (have_v2)
		best = &v2;
	else
		return -ENOENT;

	if (span_len(*best) >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, best->p, span_len(*best));
	out[span_len(*best)] = '\0';
	return 0;
}

/* ---- stat --------------------------------------------------------------- */

int stat_starttime(const char *buf, size_t len, uint64_t *ret)
{
	const char *p, *e;
	uint64_t v;
	int field;

	if (!buf || len == 0)
		return -EINVAL;
	e = buf + len;
	/* comm may contain spaces and ')': the last ')' ends it. */
	p = memrchr(buf, ')', len);
	if (!p)
		return -EINVAL;
	p++;

	/* Fields after the comm start at 3 (state); starttime is 22. */
	for (field = 3; field < 22; field++) {
		if (!expect_char(&p, e, ' '))
			return -EINVAL;
		while (p < e && *p != ' ' && *p != '\n')
			p++;
	}
	/*
	 * The kernel always prints more fields after starttime: requiring the
	 * separator makes a buffer truncated inside the number an error
	 * instead of a wrong value.
	 */
	if (!expect_char(&p, e, ' ') || !parse_dec(&p, e, false, &v) || p >= e ||
	    (*p != ' ' && *p != '\n'))
		return -EINVAL;
	*ret = v;
	return 0;
}

int stat_parse(const char *buf, size_t len, struct proc_stat *out)
{
	const char *open, *close, *p, *e;
	uint64_t v;

	if (!buf || len == 0)
		return -EINVAL;
	e = buf + len;
	open = memchr(buf, '(', len);
	close = memrchr(buf, ')', len);
	if (!open || !close || close < open)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	size_t n = MIN((size_t)(close - open - 1), sizeof(out->comm) - 1);
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';
	p = close + 1;
	/* Fields after the comm start at 3 (state); the last one we need is 24
	 * (rss), and the kernel always prints more after it. */
	for (int field = 3; field <= 24; field++) {
		if (!expect_char(&p, e, ' '))
			return -EINVAL;
		if (field < 4) { /* state: a letter */
			if (p < e)
				out->state = *p;
			while (p < e && *p != ' ' && *p != '\n')
				p++;
			continue;
		}
		bool neg = p < e && *p == '-';
		if (neg)
			p++;
		/* The fields kept as unsigned are printed unsigned (%lu, %llu):
		 * a sign there is malformed (and stat_starttime, which the pid
		 * identity check compares with, rejects it). */
		if (neg && (field == 10 || field == 12 || field == 14 || field == 15 ||
			    field == 22 || field == 23))
			return -EINVAL;
		if (!parse_dec(&p, e, false, &v) || p >= e || (*p != ' ' && *p != '\n'))
			return -EINVAL;
		switch (field) {
		case 10:
			out->minflt = v;
			break;
		case 12:
			out->majflt = v;
			break;
		case 14:
			out->utime = v;
			break;
		case 15:
			out->stime = v;
			break;
		case 22:
			out->starttime = v;
			break;
		case 23:
			out->vsize = v;
			break;
		case 24:
			out->rss = neg ? 0 : v;
			break;
		}
	}
	return 0;
}
