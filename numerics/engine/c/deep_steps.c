/* Fused batch-1 SAM / SGD steps for `bias` nets of depth D >= 3 (docs/paper.md §2, Figure 11):
   f = W2 . act(M_{L-1} ... act(M_0 act(W1 x + b1))), L = D - 2 square middle layers, MSE or logistic.

   Backward at theta (g_h the gradient of the loss with respect to a hidden layer):
     gz_L = r W2 (.) act'(z_L),  gz_{l-1} = (M_{l-1}^T gz_l) (.) act'(z_{l-1}),  r = dl/df;
     g_{M_l} = gz_{l+1} h_l^T,  g_W1 = gz_0 x^T,  g_b1 = gz_0,  g_W2 = r h_L.
   Every weight gradient is rank one, so the SAM ascent e = a g (a = rho/||g||) never needs the
   perturbed matrices:  ||g||^2 = ||x'||^2 ||gz_0||^2 + sum_l ||gz_{l+1}||^2 ||h_l||^2 + ||g_W2||^2,
     z'_0 = z_0 + a ||x'||^2 gz_0,   z'_{l+1} = M_l h'_l + a gz_{l+1} (h_l . h'_l),
     and backward at theta + e:  g'_{h_l} = M_l^T g'z_{l+1} + a h_l (gz_{l+1} . g'z_{l+1}).
   The descent (torch.optim.SGD, with weight decay) uses the gradients at theta + e. The pass that
   updates M_l row by row also computes the next sample's z_{l+1}, so the forward pass at theta
   costs no matrix product. Relu zeros are skipped in the M^T g products (exact: they add 0).
   Tests hold this equal to the autograd SAM step (numerics.optim.sam.SAM) to 1e-12 in float64. */
#include "steps_common.h"

/* per hidden layer: z, h, dh, gz at theta and zp, hp, dhp, gzp at theta + e */
enum { Z, H, DH, GZ, ZP, HP, DHP, GZP, NBUF };

long NAME(work_deep)(const spec *sp) {
    long layers = sp->depth - 1;
    return (NBUF * layers + 4) * sp->m + sp->m * sp->d + ((sp->m + 4) * (long)sizeof(long) + sizeof(real) - 1) / sizeof(real) + 1;
}

/* out[q] = rows[q] . h for four rows, sharing the loads of h; each row sums in one fixed order */
static void dot4(const real *const *rows, const real *restrict h, long m, real *out) {
    vreal a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    real t[4] = {0};
    long k = 0;
    for (; k + VL <= m; k += VL) {
        vreal hv = vload(h + k);
        a0 += vload(rows[0] + k) * hv; a1 += vload(rows[1] + k) * hv;
        a2 += vload(rows[2] + k) * hv; a3 += vload(rows[3] + k) * hv;
    }
    for (; k < m; k++)
        for (int q = 0; q < 4; q++) t[q] += rows[q][k] * h[k];
    out[0] = hsum(a0) + t[0]; out[1] = hsum(a1) + t[1]; out[2] = hsum(a2) + t[2]; out[3] = hsum(a3) + t[3];
}

/* the four row pointers of block j0 of M (the last block repeats its last row) */
static void block_rows(const real *M, long m, long j0, const real **rows) {
    for (int q = 0; q < 4; q++) rows[q] = M + (j0 + q < m ? j0 + q : m - 1) * m;
}

/* z = M h (+ c * g when g is given), every row through dot4 */
static void matvec(const real *M, long m, const real *h, real *z, real c, const real *g) {
    const real *rows[4];
    real out[4];
    for (long j0 = 0; j0 < m; j0 += 4) {
        block_rows(M, m, j0, rows);
        dot4(rows, h, m, out);
        for (long q = 0; q < 4 && j0 + q < m; q++) z[j0 + q] = g ? out[q] + c * g[j0 + q] : out[q];
    }
}

/* z_{l+1} = M_l act(z_l) for l = 0..L-1, from z_0 (the cache the steps keep) */
static void chain(const spec *sp, const real *mid, real **z, real *hn, real *scratch) {
    long m = sp->m, L = sp->depth - 2;
    for (long l = 0; l < L; l++) {
        act_fwd(sp->act, m, z[l], hn, scratch);
        matvec(mid + l * m * m, m, hn, z[l + 1], 0, NULL);
    }
}

/* gh += c[q] * rows[q] for four rows, vector by vector (each entry adds the rows in order q = 0..3) */
static inline void axpy4(const real *const *rows, const real *c, real *restrict gh, long m) {
    long k = 0;
    for (; k + VL <= m; k += VL) {
        vreal v = vload(gh + k);
        v += c[0] * vload(rows[0] + k); v += c[1] * vload(rows[1] + k);
        v += c[2] * vload(rows[2] + k); v += c[3] * vload(rows[3] + k);
        vstore(gh + k, v);
    }
    for (; k < m; k++) {
        real v = gh[k];
        v += c[0] * rows[0][k]; v += c[1] * rows[1][k]; v += c[2] * rows[2][k]; v += c[3] * rows[3][k];
        gh[k] = v;
    }
}

/* gh = M^T g over the rows with g_j != 0 (relu zeros add exactly 0), four rows per pass over gh */
static void matvec_t(const real *M, long m, const real *g, real *restrict gh, long *nz) {
    long c = 0;
    for (long j = 0; j < m; j++) { nz[c] = j; c += g[j] != 0; }
    for (long q = c; q < c + 3; q++) nz[q] = nz[c > 0 ? c - 1 : 0];
    memset(gh, 0, sizeof(real) * m);
    for (long q = 0; q < c; q += 4) {
        const real *rows[4];
        real cs[4];
        for (int u = 0; u < 4; u++) {
            rows[u] = M + nz[q + u] * m;
            cs[u] = q + u < c ? g[nz[q + u]] : 0; /* the padding rows add exactly 0 */
        }
        axpy4(rows, cs, gh, m);
    }
}

/* gz of every layer at output weights w2, from dl/df = r; a != 0 adds the rank-one perturbation */
static void backward(const spec *sp, const real *mid, real r, const real *w2, real **dh, real **gz,
                     real *gh, long *nz, real a, real **gzc, real **hc) {
    long m = sp->m, L = sp->depth - 2, j, k;
    for (j = 0; j < m; j++) gz[L][j] = r * w2[j] * dh[L][j];
    for (long l = L; l >= 1; l--) {
        matvec_t(mid + (l - 1) * m * m, m, gz[l], gh, nz);
        if (a != 0) {
            real c = a * vdot(gzc[l], gz[l], m);
            for (k = 0; k < m; k++) gh[k] += c * hc[l - 1][k];
        }
        for (k = 0; k < m; k++) gz[l - 1][k] = gh[k] * dh[l - 1][k];
    }
}

/* forward at theta + e from zp_0: hp, dhp, zp of every layer; returns f' = w2p . hp_L */
static real forward_perturbed(const spec *sp, const real *mid, real a, real **b, const real *w2p) {
    long m = sp->m, L = sp->depth - 2;
    real **zp = b + ZP * (L + 1), **hp = b + HP * (L + 1), **dhp = b + DHP * (L + 1);
    real **gz = b + GZ * (L + 1), **h = b + H * (L + 1);
    for (long l = 0; l < L; l++) {
        act_fwd(sp->act, m, zp[l], hp[l], dhp[l]);
        matvec(mid + l * m * m, m, hp[l], zp[l + 1], a * vdot(h[l], hp[l], m), gz[l + 1]);
    }
    act_fwd(sp->act, m, zp[L], hp[L], dhp[L]);
    return vdot(w2p, hp[L], m);
}

/* descent on the middle layers with gzp, hp, fused with the next sample's z_{l+1} (from z_0):
   each block of four rows is moved, then dotted with the next activations while still in cache */
static void middle_step(const spec *sp, real *mid, real **b, real *hn, real *scratch) {
    long m = sp->m, L = sp->depth - 2, j, k;
    real **z = b + Z * (L + 1), **hp = b + HP * (L + 1), **gzp = b + GZP * (L + 1), lr = sp->lr, wd = sp->wd;
    const real *rows[4];
    real out[4];
    for (long l = 0; l < L; l++) {
        real *M = mid + l * m * m;
        const real *restrict hl = hp[l];
        act_fwd(sp->act, m, z[l], hn, scratch);
        for (long j0 = 0; j0 < m; j0 += 4) {
            for (j = j0; j < j0 + 4 && j < m; j++) {
                real *restrict row = M + j * m, c = gzp[l + 1][j];
                if (wd != 0) for (k = 0; k < m; k++) row[k] -= lr * (c * hl[k] + wd * row[k]);
                else if (c != 0) for (k = 0; k < m; k++) row[k] -= lr * (c * hl[k]);
            }
            block_rows(M, m, j0, rows);
            dot4(rows, hn, m, out);
            for (j = j0; j < j0 + 4 && j < m; j++) z[l + 1][j] = out[j - j0];
        }
    }
}

/* point the NBUF x (L+1) layer buffers into work; returns the first real after them */
static real *layout(const spec *sp, real *work, real **b, int sam) {
    long m = sp->m, layers = sp->depth - 1;
    for (int q = 0; q < NBUF; q++)
        for (long l = 0; l < layers; l++) b[q * layers + l] = work + (q * layers + l) * m;
    if (!sam) /* plain SGD: the "perturbed" point is theta itself */
        for (long l = 0; l < layers; l++) {
            b[ZP * layers + l] = b[Z * layers + l]; b[HP * layers + l] = b[H * layers + l];
            b[DHP * layers + l] = b[DH * layers + l]; b[GZP * layers + l] = b[GZ * layers + l];
        }
    return work + NBUF * layers * m;
}

long NAME(steps_deep)(const spec *sp, state *st) {
    long m = sp->m, d = sp->d, layers = sp->depth - 1, L = layers - 1, s, j;
    real *b[NBUF * 64];
    if (st->S <= 0) return 0;
    if (layers > 64) return -1;
    real *rest = layout(sp, st->work, b, sp->rho > 0);
    real *gh = rest, *hn = gh + m, *gw2 = hn + m, *w2p = gw2 + m, *W1T = w2p + m;
    long *nz = (long *)(W1T + m * d + ((m * d) & 1)); /* 8-byte aligned in float32 too */
    real **z = b + Z * layers, **h = b + H * layers, **dh = b + DH * layers, **gz = b + GZ * layers;
    real **zp = b + ZP * layers, **hp = b + HP * layers, **gzp = b + GZP * layers, **dhp = b + DHP * layers;
    real *W2 = st->W2, *b1 = st->b1;
    long rc = 0;
    transpose(m, d, st->W1, W1T);
    first_layer_t(m, d, W1T, b1, st->X + st->order[0] * d, z[0]);
    chain(sp, st->mid, z, hn, gh);
    for (s = 0; s < st->S; s++) {
        const real *x = st->X + st->order[s] * d;
        const real *xn = s + 1 < st->S ? st->X + st->order[s + 1] * d : x;
        real t = st->tgt[s], xx = sqnorm_input(sp, x), a = 0;
        for (long l = 0; l < layers; l++) act_fwd(sp->act, m, z[l], h[l], dh[l]);
        real f = vdot(W2, h[L], m), r = dloss(sp->loss, f, t);
        if (!isfinite(f)) { rc = s + 1; break; }
        backward(sp, st->mid, r, W2, dh, gz, gh, nz, 0, NULL, NULL);
        for (j = 0; j < m; j++) gw2[j] = r * h[L][j];
        if (sp->rho > 0) {
            real g2 = xx * vdot(gz[0], gz[0], m) + vdot(gw2, gw2, m);
            for (long l = 1; l < layers; l++) g2 += vdot(gz[l], gz[l], m) * vdot(h[l - 1], h[l - 1], m);
            a = g2 > 0 ? sp->rho / SQRT(g2) : 0;
            for (j = 0; j < m; j++) { zp[0][j] = z[0][j] + a * xx * gz[0][j]; w2p[j] = W2[j] + a * gw2[j]; }
            f = forward_perturbed(sp, st->mid, a, b, w2p);
            if (!isfinite(f)) { rc = s + 1; break; }
            r = dloss(sp->loss, f, t);
            backward(sp, st->mid, r, w2p, dhp, gzp, gh, nz, a, gz, h);
            for (j = 0; j < m; j++) gw2[j] = r * hp[L][j];
        }
        first_layer_step_t(sp, W1T, b1, x, xn, gzp[0], z[0]);
        middle_step(sp, st->mid, b, hn, gh);
        for (j = 0; j < m; j++) W2[j] -= sp->lr * (gw2[j] + sp->wd * W2[j]);
        if (sp->radius > 0 && project_first(sp, W1T, m * d, b1) != 1) {
            first_layer_t(m, d, W1T, b1, xn, z[0]);
            chain(sp, st->mid, z, hn, gh);
        }
    }
    transpose(d, m, W1T, st->W1);
    return rc;
}
