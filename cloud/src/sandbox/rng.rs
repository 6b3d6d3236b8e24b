//! The sandbox's only source of randomness: a seeded SplitMix64 generator and a stable
//! string hash. Everything that looks random (ids, ARNs, timings, passwords, metrics) comes
//! from here, so two sandboxes built with the same seed and driven the same way agree
//! byte for byte. Hand-written to avoid a dependency; not for cryptography.

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast, and good enough for a simulation.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A number in `0..n` (`n > 0`), by multiply-and-shift (no modulo bias worth naming).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        lo + self.below(hi - lo + 1)
    }

    /// `len` lowercase hexadecimal digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        (0..len).map(|_| char::from(DIGITS[self.below(16) as usize])).collect()
    }

    /// An id shaped like a UUID (8-4-4-4-12 hex digits), as ECS uses for event ids.
    pub(crate) fn uuid(&mut self) -> String {
        format!("{}-{}-{}-{}-{}", self.hex(8), self.hex(4), self.hex(4), self.hex(4), self.hex(12))
    }

    /// A generator for another concern, so that its draws never shift this one's sequence.
    pub(crate) fn fork(seed: u64, purpose: &str) -> Self {
        Self::new(hash(seed, purpose))
    }
}

/// SplitMix64's finaliser: spreads every input bit over the output.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable hash of a string under a seed (FNV-1a, then mixed); unlike `std`'s hasher it is
/// the same in every process and release.
pub(crate) fn hash(seed: u64, text: &str) -> u64 {
    let fnv =
        text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    mix(mix(seed) ^ fnv)
}

/// A value in `[0, 1)` from 53 bits of a hash.
pub(crate) fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_another_seed_does_not() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn draws_stay_within_their_bounds() {
        let mut rng = Rng::new(7);
        for _ in 0..10_000 {
            assert!(rng.below(10) < 10);
            assert!((1000..=2000).contains(&rng.between(1000, 2000)));
            assert!((0.0..1.0).contains(&unit(rng.next_u64())));
        }
        assert_eq!(rng.between(5, 5), 5);
        let id = rng.uuid();
        assert_eq!(id.len(), 36);
        assert!(rng.hex(32).bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn hashes_are_stable_and_depend_on_seed_and_text() {
        assert_eq!(hash(1, "census-explorer"), hash(1, "census-explorer"));
        assert_ne!(hash(1, "census-explorer"), hash(2, "census-explorer"));
        assert_ne!(hash(1, "census-explorer"), hash(1, "census-explorer2"));
        let mut a = Rng::fork(9, "ecs");
        let mut b = Rng::fork(9, "directory");
        assert_ne!(a.next_u64(), b.next_u64());
    }
}
