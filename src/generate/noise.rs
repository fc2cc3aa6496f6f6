//! Deterministic randomness for the generator: hashing, a small PRNG and
//! value noise.
//!
//! Everything here uses integer hashing and plain IEEE arithmetic (no
//! `sin`, `exp` or `ln`, whose last bits depend on the C library), so one
//! seed gives the same bytes on every machine.

/// SplitMix64's finaliser: a strong 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash of a seed and a list of integers.
pub fn hash(seed: u64, parts: &[i64]) -> u64 {
    parts.iter().fold(mix(seed), |h, &p| {
        mix(h ^ (p as u64).wrapping_mul(0xff51_afd7_ed55_8ccd))
    })
}

/// A uniform number in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform number in [-0.5, 0.5) from a seed and integers.
pub fn centred(seed: u64, parts: &[i64]) -> f64 {
    unit(hash(seed, parts)) - 0.5
}

/// A sequential generator, for places where order is natural.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in [0, 1) with features about `scale` units apart.
pub fn value_noise(seed: u64, x: f64, y: f64, scale: f64) -> f64 {
    let (fx, fy) = (x / scale, y / scale);
    let (ix, iy) = (fx.floor(), fy.floor());
    let (tx, ty) = (smooth(fx - ix), smooth(fy - iy));
    let (ix, iy) = (ix as i64, iy as i64);
    let corner = |dx: i64, dy: i64| unit(hash(seed, &[ix + dx, iy + dy]));
    let bottom = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * tx;
    let top = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * tx;
    bottom + (top - bottom) * ty
}

/// Fractal value noise: `octaves` layers, each half the size and weight of
/// the one before, normalised to [0, 1).
pub fn fbm(seed: u64, x: f64, y: f64, scale: f64, octaves: u32) -> f64 {
    let (mut sum, mut weight, mut total, mut s) = (0.0, 1.0, 0.0, scale);
    for octave in 0..octaves {
        sum += weight * value_noise(seed.wrapping_add(octave as u64), x, y, s);
        total += weight;
        weight *= 0.5;
        s *= 0.5;
    }
    sum / total
}

/// One-dimensional value noise in [-0.5, 0.5) along `t`.
pub fn noise_1d(seed: u64, t: f64) -> f64 {
    let i = t.floor();
    let f = smooth(t - i);
    let a = centred(seed, &[i as i64]);
    let b = centred(seed, &[i as i64 + 1]);
    a + (b - a) * f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_stays_in_range_and_is_repeatable() {
        for i in 0..1000 {
            let (x, y) = (i as f64 * 13.7, i as f64 * -7.3);
            let v = fbm(7, x, y, 100.0, 4);
            assert!((0.0..1.0).contains(&v), "{v} at {x},{y}");
            assert_eq!(v, fbm(7, x, y, 100.0, 4));
            assert!((-0.5..0.5).contains(&noise_1d(3, x)));
        }
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut rng = Rng::new(42);
        let mean = (0..10_000).map(|_| rng.f64()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
