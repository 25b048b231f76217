/* Fused batch-1 SAM / SGD steps for depth-2 nobias, bias (relu or softplus) and sim_ln nets,
   MSE or logistic loss (docs/paper.md §2, §6). The formulas are those of
   sharpgen/numerics/engine/torch_steps.py, where they are derived; tests hold both equal to the
   autograd SAM step to 1e-12 in float64. Compiled once per dtype with -DREAL, -DEXP, -DLOG1P,
   -DSQRT and -DFNAME by c_kernel.py. */
#include <math.h>
#include <stddef.h>
typedef REAL real;

static inline real sigm(real f) {
    if (f >= 0) return 1 / (1 + EXP(-f));
    real e = EXP(f);
    return e / (1 + e);
}

/* gradient pieces at pre-activation z and output layer w2: fills gz, gw2; returns f */
static real grads(int arch, int act, int loss, real eps, long m, const real *z, const real *w2,
                  real t, real *h, real *gz, real *gw2) {
    real f = 0, s = 1, n2 = 0, r;
    long j;
    /* first pass: h = act(z), act'(z) parked in gz (one exp per neuron for softplus) */
    if (act == 0) {
        for (j = 0; j < m; j++) { h[j] = z[j] > 0 ? z[j] : 0; gz[j] = z[j] > 0 ? 1 : 0; }
    } else {
        for (j = 0; j < m; j++) {
            if (z[j] > 20) { h[j] = z[j]; gz[j] = 1; }
            else { real e = EXP(z[j]); h[j] = LOG1P(e); gz[j] = e / (e + 1); }
        }
    }
    for (j = 0; j < m; j++) { f += w2[j] * h[j]; n2 += h[j] * h[j]; }
    if (arch == 2) {
        real nrm = SQRT(n2);  /* max(||h||, eps) without eps*eps, which can underflow to 0 */
        real on = nrm >= eps ? 1 : 0;
        s = nrm >= eps ? nrm : eps;
        f /= s;
        r = loss == 0 ? 2 * (f - t) : sigm(f) - t;
        for (j = 0; j < m; j++) {
            real u = h[j] / s;
            gw2[j] = r * u;
            gz[j] = r / s * (w2[j] - f * on * u) * gz[j];
        }
        return f;
    }
    r = loss == 0 ? 2 * (f - t) : sigm(f) - t;
    for (j = 0; j < m; j++) { gw2[j] = r * h[j]; gz[j] = r * w2[j] * gz[j]; }
    return f;
}

/* dot product with four accumulators (a fixed, deterministic summation order) */
static inline real dot(const real *restrict w, const real *restrict x, long d) {
    real a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    long k;
    for (k = 0; k + 3 < d; k += 4) {
        a0 += w[k] * x[k]; a1 += w[k + 1] * x[k + 1]; a2 += w[k + 2] * x[k + 2]; a3 += w[k + 3] * x[k + 3];
    }
    for (; k < d; k++) a0 += w[k] * x[k];
    return (a0 + a1) + (a2 + a3);
}

/* S batch-1 steps; work holds 6*m reals. Returns 0, or k+1 if step k produced a non-finite output.
   The pass that updates row j of W1 also computes row j's pre-activation for the next sample. */
long FNAME(int arch, int act, int loss, long m, long d, real *restrict W1, real *restrict b1,
           real *restrict W2, const real *restrict X, const long *restrict order, const real *restrict tgt,
           long S, real lr, real rho, real wd, real eps, real radius, real *restrict work) {
    real *z = work, *h = work + m, *gz = work + 2 * m, *gw2 = work + 3 * m, *zp = work + 4 * m, *w2p = work + 5 * m;
    long s, j, k;
    if (S <= 0) return 0;
    for (j = 0; j < m; j++) {
        real acc = dot(W1 + j * d, X + order[0] * d, d);
        z[j] = arch != 0 ? acc + b1[j] : acc;
    }
    for (s = 0; s < S; s++) {
        const real *restrict x = X + order[s] * d;
        const real *restrict xn = s + 1 < S ? X + order[s + 1] * d : x;
        real t = tgt[s], xx = 0, f;
        for (k = 0; k < d; k++) xx += x[k] * x[k];
        if (arch != 0) xx += 1;
        f = grads(arch, act, loss, eps, m, z, W2, t, h, gz, gw2);
        if (!isfinite(f)) return s + 1;
        if (rho > 0) {
            real a = 0, gz2 = 0, w22 = 0, g2;
            for (j = 0; j < m; j++) { gz2 += gz[j] * gz[j]; w22 += gw2[j] * gw2[j]; }
            g2 = xx * gz2 + w22;
            if (g2 > 0) a = rho / SQRT(g2);
            for (j = 0; j < m; j++) { zp[j] = z[j] + a * xx * gz[j]; w2p[j] = W2[j] + a * gw2[j]; }
            f = grads(arch, act, loss, eps, m, zp, w2p, t, h, gz, gw2);
            if (!isfinite(f)) return s + 1;
        }
        for (j = 0; j < m; j++) {
            real *restrict w = W1 + j * d, c = gz[j], acc;
            if (wd != 0) for (k = 0; k < d; k++) w[k] -= lr * (c * x[k] + wd * w[k]);
            else for (k = 0; k < d; k++) w[k] -= lr * (c * x[k]);
            acc = dot(w, xn, d);
            if (arch != 0) { b1[j] -= lr * (c + wd * b1[j]); acc += b1[j]; }
            W2[j] -= lr * (gw2[j] + wd * W2[j]);
            z[j] = acc;
        }
        if (radius > 0) {
            real q = 0;
            for (k = 0; k < m * d; k++) q += W1[k] * W1[k];
            if (arch != 0) for (j = 0; j < m; j++) q += b1[j] * b1[j];
            q = SQRT(q);
            if (q > radius) {
                real c = radius / q;
                for (k = 0; k < m * d; k++) W1[k] *= c;
                if (arch != 0) for (j = 0; j < m; j++) b1[j] *= c;
                for (j = 0; j < m; j++) z[j] *= c;
            }
        }
    }
    return 0;
}
