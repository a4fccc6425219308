//! Softplus and its derivative over f32 slices, written so that the compiler vectorises them.
//!
//! The C library's `expf` and `logf` are scalar calls. Here e^a is Cephes' single-precision
//! polynomial (about one ulp) with branch-free range reduction, and ln(1 + t) for t in [0, 1]
//! is 2 atanh(t / (2 + t)) as a short odd series. The loops are compiled a second time with AVX2
//! and FMA enabled (`F = true`: fused multiply-adds) and that copy is chosen at run time when the
//! CPU has them.

use std::mem::MaybeUninit;

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `n * LN2_HI` is exact.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// a * b + c, fused into one rounding when `F`.
#[inline(always)]
fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// e^a for a in [-87, 0] (clamped below, where e^a is under 1.7e-38).
#[inline(always)]
fn exp_nonpositive<const F: bool>(a: f32) -> f32 {
    let a = if a < -87.0 { -87.0 } else { a };
    let shifted = madd::<F>(a, LOG2E, ROUND);
    let n = shifted - ROUND;
    let r = madd::<F>(-n, LN2_LO, madd::<F>(-n, LN2_HI, a));
    let mut p = 1.987_569_1e-4;
    p = madd::<F>(p, r, 1.398_199_9e-3);
    p = madd::<F>(p, r, 8.333_452e-3);
    p = madd::<F>(p, r, 4.166_579_6e-2);
    p = madd::<F>(p, r, 1.666_666_5e-1);
    p = madd::<F>(p, r, 0.5);
    let poly = madd::<F>(p, r * r, r) + 1.0;
    let exponent = (shifted.to_bits() as i32 - ROUND.to_bits() as i32) + 127;
    poly * f32::from_bits((exponent as u32) << 23)
}

/// ln(1 + t) for t in [0, 1]: 2 atanh(s) with s = t / (2 + t) <= 1/3, whose series
/// 2 s (1 + s^2/3 + s^4/5 + ...) is cut after s^12/13 (the next term is below 2e-8 relative).
#[inline(always)]
fn ln_1p_unit<const F: bool>(t: f32) -> f32 {
    let s = t / (2.0 + t);
    let w = s * s;
    let mut p = 1.0 / 13.0;
    p = madd::<F>(p, w, 1.0 / 11.0);
    p = madd::<F>(p, w, 1.0 / 9.0);
    p = madd::<F>(p, w, 1.0 / 7.0);
    p = madd::<F>(p, w, 1.0 / 5.0);
    p = madd::<F>(p, w, 1.0 / 3.0);
    let s2 = s + s;
    madd::<F>(s2 * w, p, s2)
}

/// softplus(v) = max(v, 0) + ln(1 + e^-|v|); NaN stays NaN.
#[inline(always)]
fn softplus_one<const F: bool>(v: f32) -> f32 {
    let tail = ln_1p_unit::<F>(exp_nonpositive::<F>(-v.abs()));
    let out = if v > 0.0 { v } else { 0.0 } + tail;
    if v.is_nan() { v } else { out }
}

/// g * sigmoid(v), the gradient of softplus; sigmoid from e^-|v| so that it never overflows.
#[inline(always)]
fn softplus_grad_one<const F: bool>(v: f32, g: f32) -> f32 {
    let t = exp_nonpositive::<F>(-v.abs());
    let s = if v >= 0.0 { 1.0 } else { t } / (1.0 + t);
    let out = g * s;
    if v.is_nan() { v } else { out }
}

/// Elements per block: four AVX2 vectors, so that four independent polynomial chains overlap.
const BLOCK: usize = 32;

#[inline(always)]
fn softplus_loop<const F: bool>(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    let mut xs = x.chunks_exact(BLOCK);
    let mut os = out.chunks_exact_mut(BLOCK);
    for (o, x) in (&mut os).zip(&mut xs) {
        let x: &[f32; BLOCK] = x.try_into().expect("block");
        let o: &mut [MaybeUninit<f32>; BLOCK] = o.try_into().expect("block");
        for i in 0..BLOCK {
            o[i].write(softplus_one::<F>(x[i]));
        }
    }
    for (o, &v) in os.into_remainder().iter_mut().zip(xs.remainder()) {
        o.write(softplus_one::<F>(v));
    }
}

#[inline(always)]
fn softplus_grad_loop<const F: bool>(x: &[f32], grad: &mut [f32]) {
    let mut xs = x.chunks_exact(BLOCK);
    let mut gs = grad.chunks_exact_mut(BLOCK);
    for (g, x) in (&mut gs).zip(&mut xs) {
        let x: &[f32; BLOCK] = x.try_into().expect("block");
        let g: &mut [f32; BLOCK] = g.try_into().expect("block");
        for i in 0..BLOCK {
            g[i] = softplus_grad_one::<F>(x[i], g[i]);
        }
    }
    for (g, &v) in gs.into_remainder().iter_mut().zip(xs.remainder()) {
        *g = softplus_grad_one::<F>(v, *g);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softplus_avx2(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    softplus_loop::<true>(x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softplus_grad_avx2(x: &[f32], grad: &mut [f32]) {
    softplus_grad_loop::<true>(x, grad)
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// softplus of every element, in a new vector.
pub fn softplus(x: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    let slots = &mut out.spare_capacity_mut()[..x.len()];
    let kernel = softplus_kernel();
    in_parts(x, slots, kernel);
    // SAFETY: the kernel wrote each of the first x.len() elements.
    unsafe { out.set_len(x.len()) };
    out
}

/// `grad[i] *= sigmoid(x[i])`: the gradient of softplus at `x` given the output's gradient.
pub fn softplus_grad(x: &[f32], grad: &mut [f32]) {
    assert_eq!(x.len(), grad.len(), "softplus_grad: input and gradient lengths differ");
    let kernel = softplus_grad_kernel();
    in_parts(x, grad, kernel);
}

type Kernel<T> = fn(&[f32], &mut [T]);

fn softplus_kernel() -> Kernel<MaybeUninit<f32>> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: only called on a CPU with AVX2 and FMA (checked just before).
        return |x, out| unsafe { softplus_avx2(x, out) };
    }
    softplus_loop::<false>
}

fn softplus_grad_kernel() -> Kernel<f32> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: only called on a CPU with AVX2 and FMA (checked just before).
        return |x, grad| unsafe { softplus_grad_avx2(x, grad) };
    }
    softplus_grad_loop::<false>
}

/// Below this many elements a kernel runs on the calling thread.
const PARALLEL_FROM: usize = 1 << 16;

/// Runs `kernel` over matching parts of `x` and `out`, on the rayon pool's threads when the
/// slices are long enough to pay for it.
fn in_parts<T: Send>(x: &[f32], out: &mut [T], kernel: impl Fn(&[f32], &mut [T]) + Sync) {
    let threads = rayon::current_num_threads();
    if x.len() < PARALLEL_FROM || threads == 1 {
        return kernel(x, out);
    }
    use rayon::prelude::*;
    let part = x.len().div_ceil(threads).next_multiple_of(BLOCK);
    x.par_chunks(part).zip(out.par_chunks_mut(part)).for_each(|(x, out)| kernel(x, out));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<f32> {
        let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-4).collect();
        xs.extend([-1e30, -500.0, -88.0, -87.0, -1e-30, 0.0, -0.0, 1e-30, 88.0, 500.0, 1e30]);
        xs
    }

    #[test]
    fn exp_and_ln_1p_match_f64_with_and_without_fma() {
        fn check<const F: bool>() {
            for a in (0..86_990).map(|i| -(i as f32) * 1e-3) {
                let (got, want) = (exp_nonpositive::<F>(a), (a as f64).exp());
                assert!((got as f64 - want).abs() <= 3e-7 * want, "exp({a}) = {got}, want {want}");
            }
            for t in (0..=100_000).map(|i| i as f32 * 1e-5).chain([1e-30, 1e-12, 3e-8]) {
                let (got, want) = (ln_1p_unit::<F>(t), (t as f64).ln_1p());
                assert!((got as f64 - want).abs() <= 2e-7 * want, "ln(1 + {t}) = {got}, want {want}");
            }
        }
        check::<false>();
        check::<true>();
    }

    #[test]
    fn softplus_matches_f64_to_float_precision() {
        let xs = grid();
        let out = softplus(&xs);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = if x > 30.0 { x as f64 } else { (x as f64).exp().ln_1p() };
            // Relative, also far below zero; below -87 the result is e^-87 rather than less.
            assert!((y as f64 - want).abs() <= 3e-7 * want + 2e-38, "softplus({x}) = {y}, want {want}");
        }
    }

    #[test]
    fn softplus_grad_is_the_sigmoid_times_the_gradient() {
        let xs = grid();
        let mut g: Vec<f32> = (0..xs.len()).map(|i| 0.5 + (i % 7) as f32).collect();
        let scale = g.clone();
        softplus_grad(&xs, &mut g);
        for ((&x, &got), &s) in xs.iter().zip(&g).zip(&scale) {
            let want = s as f64 / (1.0 + (-(x as f64)).exp());
            assert!((got as f64 - want).abs() <= 3e-7 * s as f64, "grad at {x} = {got}, want {want}");
        }
    }

    #[test]
    fn nan_and_infinities_come_through() {
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let out = softplus(&xs);
        assert!(out[0].is_nan());
        assert_eq!(out[1], f32::INFINITY);
        assert!(out[2].abs() < 1e-30);
        let mut g = [1.0; 3];
        softplus_grad(&xs, &mut g);
        assert!(g[0].is_nan());
        assert_eq!(g[1], 1.0);
        assert!(g[2].abs() < 1e-30);
    }

    #[test]
    fn the_portable_loop_gives_the_same_values() {
        let xs = grid();
        let a = softplus(&xs);
        let mut b = vec![MaybeUninit::uninit(); xs.len()];
        softplus_loop::<false>(&xs, &mut b);
        let mut g = vec![1.5; xs.len()];
        let mut h = g.clone();
        softplus_grad(&xs, &mut g);
        softplus_grad_loop::<false>(&xs, &mut h);
        for (i, x) in xs.iter().enumerate() {
            // SAFETY: softplus_loop wrote every element.
            let (p, q) = (a[i], unsafe { b[i].assume_init() });
            assert!((p - q).abs() <= 2e-7 * p.abs().max(1e-30), "softplus({x}): {p} vs {q}");
            assert!((g[i] - h[i]).abs() <= 2e-7 * g[i].abs(), "gradient at {x}: {} vs {}", g[i], h[i]);
        }
    }
}
