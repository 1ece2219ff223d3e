/* SPDX-License-Identifier: MIT */
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "damon.h"
#include "pagemap.h"
#include "procfs.h"
#include "units.h"
#include "util.h"

/* Flags that only smaps can tell; carried over between cheap scans. */
#define SMAPS_ONLY_FLAGS (VMA_HG | VMA_NH | VMA_THP_ELIGIBLE | VMA_SPECIAL | VMA_HAS_SMAPS)

uint64_t scan_hash(const char *buf, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a offset basis */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

int scan_area_skip(uint32_t f, bool have_smaps, bool shmem, bool thp_always)
{
	if (f & VMA_SPECIAL)
		return SKIP_SPECIAL;
	if (f & VMA_NH)
		return SKIP_NOHUGEPAGE;
	if (!(f & VMA_ANON) && !(shmem && (f & VMA_SHMEM)))
		return (f & VMA_SHMEM) ? SKIP_SHARED : SKIP_FILE;
	/*
	 * THPeligible applies the sysfs mode: in "madvise" mode it is 0 for every
	 * area without MADV_HUGEPAGE, yet MADV_COLLAPSE ignores the mode. So it
	 * only tells something when the mode is "always" or the area has hg.
	 * (Maps-only scans carry the flags of the last smaps read.)
	 */
	if (have_smaps && (thp_always || (f & VMA_HG)) && !(f & VMA_THP_ELIGIBLE))
		return SKIP_NOT_ELIGIBLE;
	return -1;
}

bool scan_area_eligible(uint32_t f, bool have_smaps, bool shmem, bool thp_always)
{
	return scan_area_skip(f, have_smaps, shmem, thp_always) < 0;
}

/* Remember a mapping without a candidate area (bounded; see SCAN_MAX_SKIPPED). */
static int note_skipped(struct scan_job *job, size_t *cap, const struct vma *v, int why)
{
	if (job->n_skipped >= SCAN_MAX_SKIPPED)
		return 0;
	if (grow_array((void **)&job->skipped, cap, job->n_skipped + 1, sizeof(*job->skipped)) < 0)
		return -ENOMEM;
	job->skipped[job->n_skipped++] =
	    (struct scan_skipped){.start = v->start, .end = v->end, .why = (uint8_t)why};
	return 0;
}

static enum scan_status status_from_errno(int err)
{
	if (err == -ENOENT || err == -ESRCH)
		return SCAN_GONE;
	if (err == -EACCES || err == -EPERM)
		return SCAN_DENIED;
	return SCAN_ERROR;
}

static const struct scan_area *find_prev(const struct scan_params *p, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = p->n_prev_areas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->prev_areas[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->n_prev_areas && p->prev_areas[lo].start == start &&
	    p->prev_areas[lo].end == end)
		return &p->prev_areas[lo];
	return NULL;
}

static int read_layout(struct scan_job *job, int dfd, struct vma_list *vmas)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = read_file_at(dfd, "maps", &buf, &len);
	if (r < 0)
		return r;
	job->maps_hash = scan_hash(buf, len);

	bool need_smaps = job->params.full || job->params.refs || job->params.prev_maps_hash == 0 ||
			  job->params.prev_maps_hash != job->maps_hash;
	if (!need_smaps) {
		r = maps_parse(buf, len, vmas);
		free(buf);
		if (r < 0 && vmas->n == 0)
			return r;
		for (size_t i = 0; i < vmas->n; i++) {
			const struct scan_area *prev =
			    find_prev(&job->params, vmas->v[i].start, vmas->v[i].end);
			/* Not remembered: it was not a candidate at the last full read. */
			vmas->v[i].flags |= prev ? (prev->flags & SMAPS_ONLY_FLAGS) : VMA_SPECIAL;
		}
		return 0;
	}
	free(buf);
	r = read_file_at(dfd, "smaps", &buf, &len);
	if (r < 0)
		return r;
	job->did_smaps = true;
	r = smaps_parse(buf, len, vmas);
	free(buf);
	return (r < 0 && vmas->n == 0) ? r : 0;
}

/* Is addr one of the chunks the manager saw huge after the last scan? */
static bool was_huge(const struct scan_params *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n_prev_huge;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->prev_huge[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n_prev_huge && p->prev_huge[lo] == addr;
}

/*
 * Fallback without PAGEMAP_SCAN: which full chunks are PMD-mapped, from
 * smaps' per-area count and what the manager saw before. A maps-only scan
 * has no count: a chunk seen huge that is still full is taken as huge until
 * the next smaps read (as cheap scans take smaps' flags on trust).
 */
static int infer_huge(struct scan_job *job, const struct vma *v, uint64_t astart, size_t n,
		      struct pmd_stat *stats, struct scan_area *a)
{
	struct huge_inference inf;
	uint64_t h = (v->flags & VMA_ANON) ? v->anon_huge : v->shmem_pmd_mapped;
	bool *believed = calloc(n ? n : 1, sizeof(*believed));

	if (!believed)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		believed[i] = was_huge(&job->params, astart + i * PMD_SIZE_2M);
	if (job->did_smaps) {
		pmd_infer_huge(stats, n, h, believed, &inf);
		a->inferred_splits = inf.splits;
		a->smaps_huge = h;
	} else {
		for (size_t i = 0; i < n; i++)
			stats[i].huge = believed[i] && stats[i].present >= PAGES_PER_PMD;
	}
	free(believed);
	return 0;
}

static int note_sparse(struct scan_job *job, size_t *cap, uint64_t addr, uint16_t present)
{
	if (grow_array((void **)&job->sparse, cap, job->n_sparse + 1, sizeof(*job->sparse)) < 0)
		return -ENOMEM;
	job->sparse[job->n_sparse++] = (struct scan_sparse){.addr = addr, .present = present};
	return 0;
}

static int add_area(struct scan_job *job, size_t *cap_areas, size_t *cap_chunks, size_t *cap_sparse,
		    const struct vma *v, int pagemap_fd, struct pmd_stat **stats, size_t *cap_stats)
{
	uint64_t astart = ALIGN_UP_2M(v->start), aend = ALIGN_DOWN_2M(v->end);
	size_t n = (aend - astart) / PMD_SIZE_2M;
	bool scan_supported = true;
	int r;

	if (grow_array((void **)stats, cap_stats, n, sizeof(**stats)) < 0 ||
	    grow_array((void **)&job->areas, cap_areas, job->n_areas + 1, sizeof(*job->areas)) < 0)
		return -ENOMEM;
	r = pagemap_pmd_stats(pagemap_fd, astart, aend, v->flags & VMA_ANON, *stats,
			      &scan_supported);
	if (r < 0)
		return r;
	job->pagemap_scan = scan_supported;

	struct scan_area *a = &job->areas[job->n_areas];
	*a = (struct scan_area){
	    .start = v->start, .end = v->end, .flags = v->flags, .hot_bp = 10000};
	if (job->params.refs)
		a->hot_bp = a->hot_raw_bp =
		    v->rss ? (uint32_t)MIN(10000, v->referenced * 10000 / v->rss) : 0;
	if (!scan_supported) {
		r = infer_huge(job, v, astart, n, *stats, a);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < n; i++) {
		const struct pmd_stat *s = &(*stats)[i];
		if (s->huge) {
			a->huge += PMD_SIZE_2M;
			a->resident += PMD_SIZE_2M;
		} else {
			a->resident += (uint64_t)s->present * PAGE_SIZE_4K;
		}
		/* Bloat guard: MADV_COLLAPSE zero-fills every missing page. */
		bool dense =
		    s->present > 0 && (uint64_t)s->present * BP_PER_100 >=
					  (uint64_t)job->params.min_present_bp * PAGES_PER_PMD;
		if (!s->huge && !dense) {
			if (s->present &&
			    note_sparse(job, cap_sparse, astart + i * PMD_SIZE_2M, s->present) < 0)
				return -ENOMEM;
			continue;
		}
		if (grow_array((void **)&job->chunks, cap_chunks, job->n_chunks + 1,
			       sizeof(*job->chunks)) < 0)
			return -ENOMEM;
		job->chunks[job->n_chunks++] = (struct scan_chunk){
		    .addr = astart + i * PMD_SIZE_2M,
		    .area = (uint32_t)job->n_areas,
		    .present = s->huge ? PAGES_PER_PMD : s->present,
		    .huge = s->huge,
		    .maybe_huge = s->maybe_huge,
		};
	}
	/* The kernel's count is the truth where chunks cannot all be told. */
	if (!scan_supported && job->did_smaps)
		a->huge = MAX(a->huge, a->smaps_huge / PMD_SIZE_2M * PMD_SIZE_2M);
	job->huge_bytes += a->huge;
	job->n_areas++;
	return 0;
}

static int cmp_chunk_addr(const void *a, const void *b)
{
	const struct scan_chunk *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/*
 * /proc/PID/smaps and maps are produced in pieces: a process changing its
 * mappings meanwhile can make an area appear twice or out of order. The
 * chunk table is searched by address, so sort and drop repeats.
 */
static void sort_chunks(struct scan_job *job)
{
	size_t out = 0;

	if (job->n_chunks < 2) /* chunks is NULL when there are none */
		return;
	qsort(job->chunks, job->n_chunks, sizeof(*job->chunks), cmp_chunk_addr);
	for (size_t i = 0; i < job->n_chunks; i++)
		if (out == 0 || job->chunks[out - 1].addr != job->chunks[i].addr)
			job->chunks[out++] = job->chunks[i];
	job->n_chunks = out;
}

static int cmp_sparse_addr(const void *a, const void *b)
{
	const struct scan_sparse *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

static void clear_refs(struct scan_job *job, int dfd)
{
	int fd = openat(dfd, "clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		job->refs_denied = (errno == EACCES || errno == EPERM);
	if (fd >= 0)
		close(fd);
}

/*
 * hotness damon: stop the kdamonds of targets that went away, and read this
 * target's regions (starting its kdamond first if it does not watch this pid
 * yet: the regions come with the next scan). Blocks for one or two DAMON
 * aggregation intervals.
 */
static void damon_step(struct scan_job *job)
{
	const struct scan_params *p = &job->params;
	int r;

	for (unsigned i = 0; i < damon_pool_slots() && i < 64; i++)
		if (p->damon_stop_mask & (1ULL << i))
			damon_slot_stop(i);
	if (!p->damon)
		return;
	r = damon_pool_open(DAMON_ADMIN_DEFAULT, p->damon_slots, job->damon_why,
			    sizeof(job->damon_why));
	if (r < 0) {
		job->damon_err = -r;
		return;
	}
	r = damon_slot_snapshot(p->damon_slot, job->pid, &job->hot_regions, &job->n_hot_regions);
	if (r == -ESRCH) {
		r = damon_slot_watch(p->damon_slot, job->pid);
		if (r < 0) {
			job->damon_target_err = -r;
			snprintf(job->damon_why, sizeof(job->damon_why),
				 "cannot start a kdamond: %s", strerror(-r));
		}
		return;
	}
	if (r < 0) {
		job->damon_target_err = -r;
		snprintf(job->damon_why, sizeof(job->damon_why), "cannot read its regions: %s",
			 strerror(-r));
		return;
	}
	job->damon_valid = true;
}

/* CPU time of the calling thread so far (0 if unknown). */
static uint64_t thread_cpu_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void scan_run(struct work *w, const atomic_bool *stop)
{
	struct scan_job *job = (struct scan_job *)w;
	struct vma_list vmas = {0};
	struct proc_status st;
	struct pmd_stat *stats = NULL;
	size_t cap_stats = 0, cap_areas = 0, cap_chunks = 0, cap_skipped = 0, cap_sparse = 0;
	char path[64], *buf = NULL;
	size_t len;
	int dfd = -1, pagemap_fd = -1, r;
	uint64_t t0 = now_usec(), cpu0 = thread_cpu_usec();

	snprintf(path, sizeof(path), "/proc/%d", (int)job->pid);
	dfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		goto fail;
	}
	/* The process was alive after we opened its directory, so the pid had
	 * not been reused: everything read through dfd belongs to our pidfd. */
	if (!pidfd_alive(job->pidfd)) {
		r = -ESRCH;
		goto fail;
	}
	r = read_file_at(dfd, "status", &buf, &len);
	if (r < 0)
		goto fail;
	r = status_parse(buf, len, &st);
	free(buf);
	buf = NULL;
	if (r < 0)
		goto fail;
	job->anon_bytes = st.rss_anon;
	if (st.thp_enabled == 0) {
		job->status = SCAN_THP_DISABLED;
		goto out;
	}
	r = read_layout(job, dfd, &vmas);
	if (r < 0)
		goto fail;

	pagemap_fd = openat(dfd, "pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0) {
		r = -errno;
		goto fail;
	}
	for (size_t i = 0; i < vmas.n && !atomic_load(stop); i++) {
		const struct vma *v = &vmas.v[i];
		int skip = scan_area_skip(v->flags, job->did_smaps, job->params.shmem,
					  job->params.thp_always);
		if (skip < 0 && ALIGN_UP_2M(v->start) >= ALIGN_DOWN_2M(v->end))
			skip = SKIP_TOO_SMALL;
		if (skip >= 0) {
			r = note_skipped(job, &cap_skipped, v, skip);
			if (r < 0)
				goto fail;
			continue;
		}
		r = add_area(job, &cap_areas, &cap_chunks, &cap_sparse, v, pagemap_fd, &stats,
			     &cap_stats);
		if (r < 0)
			goto fail;
	}
	sort_chunks(job);
	if (job->n_sparse > 1)
		qsort(job->sparse, job->n_sparse, sizeof(*job->sparse), cmp_sparse_addr);
	damon_step(job);
	if (job->params.refs)
		clear_refs(job, dfd);
	job->status = SCAN_OK;
	goto out;
fail:
	job->err = r;
	job->status = status_from_errno(r);
out:
	free(stats);
	vma_list_free(&vmas);
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	if (dfd >= 0)
		close(dfd);
	job->duration_usec = now_usec() - t0;
	job->cpu_usec = thread_cpu_usec() - cpu0;
}

struct scan_job *scan_job_new(uint64_t target_id, pid_t pid, int pidfd, const struct scan_params *p,
			      void (*done)(struct work *, bool, void *))
{
	struct scan_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	job->params = *p;
	if (p->n_prev_areas) {
		job->prev_areas_owned = malloc(p->n_prev_areas * sizeof(*p->prev_areas));
		if (job->prev_areas_owned)
			memcpy(job->prev_areas_owned, p->prev_areas,
			       p->n_prev_areas * sizeof(*p->prev_areas));
	}
	if (p->n_prev_huge) {
		job->prev_huge_owned = malloc(p->n_prev_huge * sizeof(*p->prev_huge));
		if (job->prev_huge_owned)
			memcpy(job->prev_huge_owned, p->prev_huge,
			       p->n_prev_huge * sizeof(*p->prev_huge));
	}
	if (job->pidfd < 0 || (p->n_prev_areas && !job->prev_areas_owned) ||
	    (p->n_prev_huge && !job->prev_huge_owned)) {
		scan_job_free(job);
		return NULL;
	}
	job->params.prev_areas = job->prev_areas_owned;
	job->params.prev_huge = job->prev_huge_owned;
	job->target_id = target_id;
	job->pid = pid;
	job->work.run = scan_run;
	job->work.done = done;
	return job;
}

void scan_job_free(struct scan_job *job)
{
	if (!job)
		return;
	if (job->pidfd >= 0)
		close(job->pidfd);
	free(job->prev_areas_owned);
	free(job->prev_huge_owned);
	free(job->areas);
	free(job->chunks);
	free(job->skipped);
	free(job->sparse);
	free(job->hot_regions);
	free(job);
}
