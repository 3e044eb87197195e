/* cluster.c — average linkage by the nearest-neighbour chain (Murtagh
 * 1983; Müllner 2011), valid because average linkage is reducible. */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct raw {
	size_t x, y; /* slots merged; the new cluster lives in slot y */
	double h;
	size_t seq;
};

static int cmp_raw(const void *pa, const void *pb)
{
	const struct raw *a = pa, *b = pb;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static size_t find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* Label the merges scipy's way and list the leaves depth first. */
static mp_status relabel(struct raw *raw, size_t n, struct mp_merge *merges,
			 size_t *order, struct mp_error *err)
{
	size_t *parent = malloc(n * sizeof *parent);
	size_t *label = malloc(n * sizeof *label);
	size_t *stack = malloc(n * sizeof *stack);
	if (!parent || !label || !stack) {
		free(parent);
		free(label);
		free(stack);
		return mp_error_set(err, MP_ENOMEM, "clustering: out of memory");
	}
	qsort(raw, n - 1, sizeof *raw, cmp_raw);
	for (size_t i = 0; i < n; i++)
		parent[i] = label[i] = i;
	for (size_t k = 0; k + 1 < n; k++) {
		size_t rx = find(parent, raw[k].x), ry = find(parent, raw[k].y);
		size_t la = label[rx], lb = label[ry];
		merges[k].a = la < lb ? la : lb;
		merges[k].b = la < lb ? lb : la;
		merges[k].height = raw[k].h;
		size_t sa = la < n ? 1 : merges[la - n].size;
		size_t sb = lb < n ? 1 : merges[lb - n].size;
		merges[k].size = sa + sb;
		parent[rx] = ry;
		label[ry] = n + k;
	}
	/* depth-first from the root, a before b */
	size_t sp = 0, no = 0;
	stack[sp++] = 2 * n - 2;
	while (sp > 0) {
		size_t c = stack[--sp];
		if (c < n) {
			order[no++] = c;
			continue;
		}
		stack[sp++] = merges[c - n].b; /* at most n entries: a tree */
		stack[sp++] = merges[c - n].a;
	}
	free(parent);
	free(label);
	free(stack);
	return MP_OK;
}

mp_status mp_cluster_average(const double *d, size_t n,
			     struct mp_merge *merges, size_t *order,
			     struct mp_error *err)
{
	if (n == 0)
		return MP_OK;
	if (n == 1) {
		order[0] = 0;
		return MP_OK;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j && !(d[i * n + j] >= 0 && isfinite(d[i * n + j])))
				return mp_error_set(err, MP_EINVAL,
						    "clustering: distance %zu,%zu is "
						    "not a finite non-negative number",
						    i, j);
	uint64_t cells;
	if (!mp_mul_u64(n, n, &cells) || cells > SIZE_MAX / sizeof(double))
		return mp_error_set(err, MP_ENOMEM, "clustering: too many items");
	double *D = malloc(cells * sizeof *D);
	size_t *size = malloc(n * sizeof *size), *chain = malloc(n * sizeof *chain);
	size_t *act = malloc(n * sizeof *act); /* active slots, compact */
	size_t *pos = malloc(n * sizeof *pos); /* slot -> index in act */
	struct raw *raw = malloc((n - 1) * sizeof *raw);
	mp_status st = MP_OK;
	if (!D || !size || !chain || !act || !pos || !raw) {
		st = mp_error_set(err, MP_ENOMEM, "clustering: out of memory");
		goto out;
	}
	memcpy(D, d, cells * sizeof *D);
	for (size_t i = 0; i < n; i++) {
		size[i] = 1;
		act[i] = pos[i] = i;
	}
	size_t nact = n, len = 0;
	for (size_t k = 0; k + 1 < n; k++) {
		if (len == 0)
			chain[len++] = act[0];
		size_t a, b;
		for (;;) {
			a = chain[len - 1];
			size_t prev = len >= 2 ? chain[len - 2] : SIZE_MAX;
			/* the previous link wins ties, so the chain ends */
			b = prev;
			double best = prev != SIZE_MAX ? D[a * n + prev] : INFINITY;
			for (size_t q = 0; q < nact; q++) {
				size_t j = act[q];
				if (j != a && D[a * n + j] < best) {
					best = D[a * n + j];
					b = j;
				}
			}
			if (b == prev)
				break;
			chain[len++] = b;
		}
		len -= 2;
		/* merge slot a into slot b */
		raw[k] = (struct raw){a, b, D[a * n + b], k};
		double sa = (double)size[a], sb = (double)size[b];
		for (size_t q = 0; q < nact; q++) {
			size_t j = act[q];
			if (j == a || j == b)
				continue;
			double v = (sa * D[a * n + j] + sb * D[b * n + j]) / (sa + sb);
			D[b * n + j] = D[j * n + b] = v;
		}
		size[b] += size[a];
		size_t last = act[--nact]; /* drop slot a from the active set */
		act[pos[a]] = last;
		pos[last] = pos[a];
	}
	st = relabel(raw, n, merges, order, err);
out:
	free(D);
	free(size);
	free(chain);
	free(act);
	free(pos);
	free(raw);
	return st;
}
