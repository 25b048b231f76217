/* Shared pieces of the fused batch-1 SAM / SGD steps (docs/paper.md §2, §6): the parameter and
   run layouts handed over by loops.py, activations, loss derivatives, the sim_ln normaliser
   and fixed-order reductions. Compiled by loops.py with -DREAL, -DEXP, -DLOG1P, -DSQRT,
   -DSUFFIX and -DSOFTPLUS_THRESHOLD (numerics.nets.functional.SOFTPLUS_THRESHOLD, its one home). */
#ifndef SHARPGEN_STEPS_COMMON_H
#define SHARPGEN_STEPS_COMMON_H
#include <math.h>
#include <stddef.h>
#include <string.h>

#ifndef SOFTPLUS_THRESHOLD
#error "SOFTPLUS_THRESHOLD is passed by loops.py from numerics.nets.functional"
#endif

typedef REAL real;
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(x) CAT(x, SUFFIX)

enum { NOBIAS = 0, BIAS = 1, SIM_LN = 2, SIM_BN = 3 };

/* What is shared by every step of one replica's call: the network, its loss and the step sizes. */
typedef struct {
    int arch, act, loss, depth;   /* act 0 relu, 1 softplus; loss 0 mse, 1 logistic (target t) */
    int ln_sq;                    /* sim_ln: N = sqrt(max(sq, eps2)) if 1, else max(sqrt(sq), eps) */
    long m, d, n;                 /* width, input dimension, training points */
    real eps, eps2, lr, rho, wd;  /* eps2: eps*eps rounded to this dtype (numerics.nets.functional) */
    real radius;                  /* > 0: project [W1 | b1] onto this Frobenius ball after each step */
} spec;

/* One replica's parameters (its own memory, updated in place) and the steps to take. */
typedef struct {
    real *W1;           /* m x d, row-major (the Net layout) */
    real *b1;           /* m, NULL for nobias */
    real *W2;           /* m, the output layer */
    real *gamma;        /* m, sim_bn only */
    real *mid;          /* depth - 2 row-major m x m layers (Net.middle), depth >= 3 only */
    const real *X;      /* n x d training inputs */
    const long *order;  /* S sample indices */
    const real *tgt;    /* S kernel targets */
    long S;
    real *work;         /* scratch: as many reals as the family's NAME(work2 / work_deep / work_bn)(spec) */
} state;

long NAME(steps2)(const spec *sp, state *st);
long NAME(work2)(const spec *sp);
long NAME(steps_deep)(const spec *sp, state *st);
long NAME(work_deep)(const spec *sp);
long NAME(steps_bn)(const spec *sp, state *st);
long NAME(work_bn)(const spec *sp);

static inline real sigm(real f) {
    if (f >= 0) return 1 / (1 + EXP(-f));
    real e = EXP(f);
    return e / (1 + e);
}

/* dl/df: MSE (f - t)^2 -> 2 (f - t); logistic -> sigma(f) - t (t from torch_fused/shallow.py: kernel_targets) */
static inline real dloss(int loss, real f, real t) { return loss == 0 ? 2 * (f - t) : sigm(f) - t; }

/* h = act(z), dh = act'(z): relu (relu'(0) = 0) or torch's softplus (z itself above the threshold) */
static inline void act_fwd(int act, long m, const real *restrict z, real *restrict h, real *restrict dh) {
    long j;
    if (act == 0) {
        for (j = 0; j < m; j++) { h[j] = z[j] > 0 ? z[j] : 0; dh[j] = z[j] > 0 ? 1 : 0; }
        return;
    }
    for (j = 0; j < m; j++) {
        if (z[j] > SOFTPLUS_THRESHOLD) { h[j] = z[j]; dh[j] = 1; }
        else { real e = EXP(z[j]); h[j] = LOG1P(e); dh[j] = e / (e + 1); }
    }
}

/* 64-byte vectors of reals (GCC/Clang vector extensions): the hot loops keep their accumulators
   in registers whatever the target's vector width (the compiler splits them where needed) */
#define VBYTES 64
#define VL ((long)(VBYTES / sizeof(real)))
typedef real vreal __attribute__((vector_size(VBYTES)));
static inline vreal vload(const real *p) { vreal v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(real *p, vreal v) { memcpy(p, &v, sizeof v); }
static inline vreal vsplat(real x) { return (vreal){0} + x; }

/* the lanes of v summed pairwise (a fixed order) */
static inline real hsum(vreal v) {
    real t[VBYTES / sizeof(real)];
    memcpy(t, &v, sizeof v);
    for (long w = VL / 2; w > 0; w /= 2)
        for (long i = 0; i < w; i++) t[i] += t[i + w];
    return t[0];
}

/* sum_j a[j] b[j]: two vector accumulators, then the tail; one fixed order */
static inline real vdot(const real *restrict a, const real *restrict b, long m) {
    vreal acc0 = {0}, acc1 = {0};
    real tail = 0;
    long j = 0;
    for (; j + 2 * VL <= m; j += 2 * VL) {
        acc0 += vload(a + j) * vload(b + j);
        acc1 += vload(a + j + VL) * vload(b + j + VL);
    }
    if (j + VL <= m) { acc0 += vload(a + j) * vload(b + j); j += VL; }
    for (; j < m; j++) tail += a[j] * b[j];
    return hsum(acc0 + acc1) + tail;
}

/* the sim_ln normaliser N = max(||h||, eps) from sq = ||h||^2 and whether the norm branch is taken,
   exactly as numerics.nets.functional.ln_normaliser / ln_norm_branch */
static inline real ln_norm(const spec *sp, real sq, real *on) {
    if (sp->ln_sq) { *on = sq >= sp->eps2 ? 1 : 0; return SQRT(sq > sp->eps2 ? sq : sp->eps2); }
    real nrm = SQRT(sq);
    *on = nrm >= sp->eps ? 1 : 0;
    return nrm >= sp->eps ? nrm : sp->eps;
}

/* z = b1 + sum_k x[k] W1T[k, :] (b1 NULL: 0), W1T the d x m transpose */
static inline void first_layer_t(long m, long d, const real *restrict W1T, const real *restrict b1,
                                 const real *restrict x, real *restrict z) {
    long j, k;
    for (j = 0; j < m; j++) z[j] = b1 ? b1[j] : 0;
    for (k = 0; k < d; k++) {
        const real *restrict w = W1T + k * m;
        real xk = x[k];
        for (j = 0; j < m; j++) z[j] += xk * w[j];
    }
}

/* One SGD step on the first layer from dl/dz (gz) at input x (torch.optim.SGD: w -= lr (g + wd w)),
   fused with the next sample's pre-activations zn = b1 + W1 xn (the pass that moves W1T row k also
   adds its share of zn). */
static inline void first_layer_step_t(const spec *sp, real *restrict W1T, real *restrict b1,
                                      const real *restrict x, const real *restrict xn,
                                      const real *restrict gz, real *restrict zn) {
    long m = sp->m, d = sp->d, j, k;
    real lr = sp->lr, wd = sp->wd;
    for (j = 0; j < m; j++) {
        if (b1) { b1[j] -= lr * (gz[j] + wd * b1[j]); zn[j] = b1[j]; }
        else zn[j] = 0;
    }
    for (k = 0; k < d; k++) {
        real *restrict w = W1T + k * m, xk = x[k], xnk = xn[k];
        if (wd != 0) for (j = 0; j < m; j++) { real v = w[j] - lr * (gz[j] * xk + wd * w[j]); w[j] = v; zn[j] += xnk * v; }
        else for (j = 0; j < m; j++) { real v = w[j] - lr * (gz[j] * xk); w[j] = v; zn[j] += xnk * v; }
    }
}

/* W1 (m x d) -> W1T (d x m) and back: the kernels' layout, so inner loops run along the neurons */
static inline void transpose(long rows, long cols, const real *restrict in, real *restrict out) {
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) out[c * rows + r] = in[r * cols + c];
}

/* Figure 6b: scale [W1 | b1] onto the Frobenius ball of sp->radius; returns the factor (1: inside) */
static inline real project_first(const spec *sp, real *W1, long count, real *b1) {
    real q = vdot(W1, W1, count);
    if (b1) q += vdot(b1, b1, sp->m);
    q = SQRT(q);
    if (!(q > sp->radius)) return 1;
    real c = sp->radius / q;
    for (long k = 0; k < count; k++) W1[k] *= c;
    if (b1) for (long j = 0; j < sp->m; j++) b1[j] *= c;
    return c;
}

static inline real sqnorm_input(const spec *sp, const real *x) {
    real xx = vdot(x, x, sp->d);
    return sp->arch != NOBIAS ? xx + 1 : xx;
}
#endif
