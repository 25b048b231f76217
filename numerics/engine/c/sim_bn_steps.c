/* Fused batch-1 SAM / SGD steps for sim_bn (docs/paper.md §2, Figure 2, Figure 10a), MSE or logistic:
     f(x) = sum_j c_j h_j(x) / a_j,  c_j = W2_j gamma_j,  h = relu(W x'),  W = [W1 | b1],
     a_j = sqrt((1/n) sum_l h_j(x_l)^2) over the whole training set (a_j = 0: neuron j gives 0).
   With r = dl/df on sample i and M_j = sum_l h_j(x_l) x_l' (the only O(n m d) quantity):
     dl/dW2_j = r gamma_j h_ij / a_j,   dl/dgamma_j = r W2_j h_ij / a_j,
     dl/dW_j = r (c_j / a_j x_i' - beta_j M_j),   beta_j = c_j h_ij / (n a_j^3),
   all zero unless neuron j fires on x_i (h_ij > 0): the set A. So a batch-1 step changes only
   the rows in A, the ascent only the rows in A, and the perturbed point's firing set is a subset
   of A. The kernel keeps Z = X' W^T (neurons x samples) and a from step to step and recomputes
   only the rows a step changed (every row when weight decay or the projection moves them all):
   exactly the values a full recomputation gives, at about half its cost.
   Tests hold this equal to the autograd SAM step (numerics.optim.sam.SAM) to 1e-12 in float64. */
#include "steps_common.h"

#define VB VL /* columns of the register tile (one vector); padded sizes are multiples of it */
#define RB 4  /* rows of the register tile */

static long up(long v) { return (v + VB - 1) / VB * VB; }
static long idx_reals(long m) { return ((m + RB) * (long)sizeof(long) + sizeof(real) - 1) / sizeof(real); }

long NAME(work_bn)(const spec *sp) {
    long m = sp->m, dp = up(sp->d + 1), np = up(sp->n);
    return 2 * idx_reals(m) + 4 * m * dp + 2 * np * dp + 3 * m * np + 6 * m;
}

/* out[j, 0:N] = sum_{k<K} A[j, k] B[k, 0:N] for each j in rows[0:c] (rows padded to a multiple of RB
   by repeating the last entry). Each entry sums over k in order, whatever rows share its tile. */
static void rows_times(long c, const long *rows, const real *A, long lda, long K, const real *B, long ldb,
                       long N, real *out, long ldo) {
    for (long r0 = 0; r0 < c; r0 += RB) {
        const real *a0 = A + rows[r0] * lda, *a1 = A + rows[r0 + 1] * lda;
        const real *a2 = A + rows[r0 + 2] * lda, *a3 = A + rows[r0 + 3] * lda;
        for (long n0 = 0; n0 < N; n0 += VB) {
            vreal c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
            for (long k = 0; k < K; k++) {
                vreal bk = vload(B + k * ldb + n0);
                c0 += a0[k] * bk; c1 += a1[k] * bk; c2 += a2[k] * bk; c3 += a3[k] * bk;
            }
            vstore(out + rows[r0] * ldo + n0, c0); vstore(out + rows[r0 + 1] * ldo + n0, c1);
            vstore(out + rows[r0 + 2] * ldo + n0, c2); vstore(out + rows[r0 + 3] * ldo + n0, c3);
        }
    }
}

static long pad_rows(long *rows, long c) {
    for (long q = c; q < c + RB; q++) rows[q] = c > 0 ? rows[c - 1] : 0;
    return c;
}

typedef struct {
    long m, n, dp, np, *A, *A2;
    real *W, *Wq, *G, *Mb, *XT, *Xr, *ZT, *ZTp, *HT, *a, *ap, *gw2, *gg, *w2p, *gp;
} bn_work;

static bn_work bn_layout(const spec *sp, real *w) {
    bn_work b;
    long m = sp->m;
    b.m = m; b.n = sp->n; b.dp = up(sp->d + 1); b.np = up(sp->n);
    b.A = (long *)w; w += idx_reals(m);
    b.A2 = (long *)w; w += idx_reals(m);
    b.W = w; w += m * b.dp; b.Wq = w; w += m * b.dp; b.G = w; w += m * b.dp; b.Mb = w; w += m * b.dp;
    b.XT = w; w += b.dp * b.np; b.Xr = w; w += b.np * b.dp;
    b.ZT = w; w += m * b.np; b.ZTp = w; w += m * b.np; b.HT = w; w += m * b.np;
    b.a = w; w += m; b.ap = w; w += m; b.gw2 = w; w += m; b.gg = w; w += m; b.w2p = w; w += m; b.gp = w;
    return b;
}

/* Z rows (and their norms a) of the listed neurons from the weight rows W */
static void z_rows(const bn_work *b, long d1, const long *rows, long c, const real *W, real *ZT, real *a) {
    rows_times(c, rows, W, b->dp, d1, b->XT, b->np, b->np, ZT, b->np);
    for (long q = 0; q < c; q++) {
        const real *z = ZT + rows[q] * b->np;
        real *hrow = b->HT + rows[q] * b->np;
        for (long l = 0; l < b->np; l++) hrow[l] = z[l] > 0 ? z[l] : 0;
        a[rows[q]] = SQRT(vdot(hrow, hrow, b->np) / b->n);
    }
}

/* at weights (W, w2, gm) with Z rows ZT and norms a, over candidate neurons cand[0:c]: the firing
   set on sample i (into fire), f, and, given r = dl/df, the gradients of the firing rows */
static real bn_output(const bn_work *b, long i, const long *cand, long c, const real *ZT, const real *a,
                      const real *w2, const real *gm, long *fire, long *nf) {
    real f = 0;
    long k = 0;
    for (long q = 0; q < c; q++) {
        long j = cand[q];
        real h = ZT[j * b->np + i];
        if (h > 0) { f += (w2[j] * gm[j]) / a[j] * h; fire[k++] = j; }
    }
    *nf = pad_rows(fire, k);
    return f;
}

static void bn_grads(const bn_work *b, long d1, long i, real r, const long *fire, long nf, const real *ZT,
                     const real *a, const real *w2, const real *gm) {
    for (long q = 0; q < nf; q++) { /* H rows of the firing neurons, then M = H X' */
        const real *z = ZT + fire[q] * b->np;
        real *hrow = b->HT + fire[q] * b->np;
        for (long l = 0; l < b->np; l++) hrow[l] = z[l] > 0 ? z[l] : 0;
    }
    rows_times(nf, fire, b->HT, b->np, b->n, b->Xr, b->dp, b->dp, b->Mb, b->dp);
    for (long q = 0; q < nf; q++) {
        long j = fire[q];
        real h = ZT[j * b->np + i], aj = a[j], c = w2[j] * gm[j], v = c / aj;
        real beta = c * h / (b->n * aj * aj * aj);
        const real *x = b->Xr + i * b->dp, *M = b->Mb + j * b->dp;
        real *g = b->G + j * b->dp;
        b->gw2[j] = r * gm[j] * h / aj;
        b->gg[j] = r * w2[j] * h / aj;
        for (long k = 0; k < d1; k++) g[k] = r * (v * x[k] - beta * M[k]);
    }
}

static void bn_pack(const spec *sp, const state *st, bn_work *b) {
    long m = sp->m, d = sp->d, n = sp->n, l, k;
    memset(b->W, 0, sizeof(real) * m * b->dp);
    memset(b->G, 0, sizeof(real) * m * b->dp);
    memset(b->XT, 0, sizeof(real) * b->dp * b->np);
    memset(b->Xr, 0, sizeof(real) * b->np * b->dp);
    memset(b->ZT, 0, sizeof(real) * 2 * m * b->np);
    for (long j = 0; j < m; j++) {
        memcpy(b->W + j * b->dp, st->W1 + j * d, sizeof(real) * d);
        b->W[j * b->dp + d] = st->b1[j];
    }
    for (l = 0; l < n; l++) {
        for (k = 0; k < d; k++) { b->Xr[l * b->dp + k] = st->X[l * d + k]; b->XT[k * b->np + l] = st->X[l * d + k]; }
        b->Xr[l * b->dp + d] = 1;
        b->XT[d * b->np + l] = 1;
    }
}

static void bn_unpack(const spec *sp, state *st, const bn_work *b) {
    for (long j = 0; j < sp->m; j++) {
        memcpy(st->W1 + j * sp->d, b->W + j * b->dp, sizeof(real) * sp->d);
        st->b1[j] = b->W[j * b->dp + sp->d];
    }
}

/* the descent with the gradients in G, gw2, gg of the rows fire[0:nf]; returns the rows whose Z moved */
static long bn_descend(const spec *sp, state *st, bn_work *b, long d1, const long *fire, long nf, long *moved) {
    long m = sp->m, q, k;
    real lr = sp->lr, wd = sp->wd, *W2 = st->W2, *gm = st->gamma;
    if (wd == 0) {
        for (q = 0; q < nf; q++) {
            long j = fire[q];
            real *w = b->W + j * b->dp, *g = b->G + j * b->dp;
            for (k = 0; k < d1; k++) w[k] -= lr * g[k];
            W2[j] -= lr * b->gw2[j];
            gm[j] -= lr * b->gg[j];
            moved[q] = j;
        }
        return pad_rows(moved, nf);
    }
    for (long j = 0; j < m; j++) { b->ap[j] = 0; moved[j] = j; } /* ap marks the firing rows */
    for (q = 0; q < nf; q++) b->ap[fire[q]] = 1;
    for (long j = 0; j < m; j++) {
        real *w = b->W + j * b->dp, *g = b->G + j * b->dp, on = b->ap[j];
        for (k = 0; k < d1; k++) w[k] -= lr * ((on != 0 ? g[k] : 0) + wd * w[k]);
        W2[j] -= lr * ((on != 0 ? b->gw2[j] : 0) + wd * W2[j]);
        gm[j] -= lr * ((on != 0 ? b->gg[j] : 0) + wd * gm[j]);
    }
    return pad_rows(moved, m);
}

long NAME(steps_bn)(const spec *sp, state *st) {
    long m = sp->m, d1 = sp->d + 1, s, q, nA, nA2, k;
    bn_work b = bn_layout(sp, st->work);
    long *all = b.A2, rc = 0;
    if (st->S <= 0) return 0;
    bn_pack(sp, st, &b);
    for (q = 0; q < m; q++) all[q] = q;
    z_rows(&b, d1, all, pad_rows(all, m), b.W, b.ZT, b.a);
    for (s = 0; s < st->S; s++) {
        long i = st->order[s];
        real t = st->tgt[s], *w2 = st->W2, *gm = st->gamma;
        for (q = 0; q < m; q++) all[q] = q;
        real f = bn_output(&b, i, all, m, b.ZT, b.a, w2, gm, b.A, &nA);
        if (!isfinite(f)) { rc = s + 1; break; }
        bn_grads(&b, d1, i, dloss(sp->loss, f, t), b.A, nA, b.ZT, b.a, w2, gm);
        long *fire = b.A, nf = nA;
        if (sp->rho > 0) {
            real g2 = 0, as;
            for (q = 0; q < nA; q++) {
                long j = b.A[q];
                g2 += vdot(b.G + j * b.dp, b.G + j * b.dp, d1) + b.gw2[j] * b.gw2[j] + b.gg[j] * b.gg[j];
            }
            as = g2 > 0 ? sp->rho / SQRT(g2) : 0;
            for (q = 0; q < nA; q++) {
                long j = b.A[q];
                real *wq = b.Wq + j * b.dp, *w = b.W + j * b.dp, *g = b.G + j * b.dp;
                for (k = 0; k < b.dp; k++) wq[k] = w[k] + as * g[k];
                b.w2p[j] = w2[j] + as * b.gw2[j];
                b.gp[j] = gm[j] + as * b.gg[j];
            }
            z_rows(&b, d1, b.A, nA, b.Wq, b.ZTp, b.ap);
            f = bn_output(&b, i, b.A, nA, b.ZTp, b.ap, b.w2p, b.gp, b.A2, &nA2);
            if (!isfinite(f)) { rc = s + 1; break; }
            for (q = 0; q < nA; q++) memset(b.G + b.A[q] * b.dp, 0, sizeof(real) * b.dp);
            bn_grads(&b, d1, i, dloss(sp->loss, f, t), b.A2, nA2, b.ZTp, b.ap, b.w2p, b.gp);
            fire = b.A2; nf = nA2;
        }
        long *moved = fire == b.A ? b.A2 : b.A;
        long nm = bn_descend(sp, st, &b, d1, fire, nf, moved);
        for (q = 0; q < nf; q++) memset(b.G + fire[q] * b.dp, 0, sizeof(real) * b.dp);
        if (sp->radius > 0 && project_first(sp, b.W, m * b.dp, NULL) != 1) {
            for (q = 0; q < m; q++) moved[q] = q;
            nm = pad_rows(moved, m);
        }
        z_rows(&b, d1, moved, nm, b.W, b.ZT, b.a);
    }
    bn_unpack(sp, st, &b);
    return rc;
}
