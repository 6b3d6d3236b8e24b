//! Property tests for every parser and validator of the `domain` crate: the values a form, the
//! HTTP API or the configuration hands to ShinyFleet, checked against the rules their doc
//! comments state.
//!
//! Each parser is held to three kinds of property:
//!
//! 1. **It never panics.** Any input — arbitrary Unicode, control characters, text built from
//!    the characters the parser cares about (so the deep branches are reached), strings of
//!    up to ~10 KB, any integer — gives `Ok` or `Err`.
//! 2. **What it accepts obeys the documented rule**, and round-trips: `parse(display(x)) == x`,
//!    `as_str`/`Display`/`String::from` give back the (normalised) input.
//! 3. **Generated valid inputs are accepted, near misses refused.** Valid inputs are built
//!    from the rules in the doc comments (never by asking the parser); each near miss breaks
//!    one rule (a forbidden character, one too many, the wrong case, a leading hyphen, …) and
//!    must be refused with a `ValidationError` naming its field, with a message.
//!
//! Where a rule is simple enough, it is written out as an oracle (`documented_*`) and the
//! parser must agree with it on every input. Three tests pin rules these tests found broken
//! (and that were then fixed): one-component image repositories, log stream names counted in
//! characters, and display names with a Unicode line separator.
//!
//! The schedule and cost engines' parsers (time zones, schedule documents, overrides, price
//! overrides, region prices) need the `engine` feature and live in the `engine` module: run
//! `cargo test -p domain --features engine --test parsers` (`cargo test --workspace` turns the
//! feature on). Failing cases are not persisted to a regressions file; proptest prints the
//! minimal failing input instead.

use domain::app::{AppSlug, Architecture, FargateSize, ImageRef, ValidationError};
use domain::cost::Money;
use domain::definition::{app_name, format_lines, health_check_tool, parse_lines, target_group_arn};
use domain::definition::{AppDefinition, AppInput};
use domain::deploy::revision_of;
use domain::email::EmailAddress;
use domain::fleet::RolloutState;
use domain::identity::Role;
use domain::logs::{stream_for, task_id_in_stream, LogQuery, MAX_FILTER_CHARS, MAX_LIMIT};
use domain::registry::{EcrImage, ImageId};
use domain::schedule::{days_label, format_time, parse_day, parse_time, Days, Mode, Preset, DAY_NAMES};
use domain::settings::{
    container_port, desired_count, health_check_path, role_arn, Environment, HealthCheckTool, Tags,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::fmt::Debug;

// ───────────────────────────── Shared strategies and checks ─────────────────────────────

/// The default 256 cases, without a regressions file next to this one.
fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

/// Control and invisible characters mixed into every alphabet.
const CONTROLS: &str = "\0\t\n\r\x0b\x0c\x1b\x7f\u{85}\u{200b}\u{2028}\u{2029}\u{feff}";

fn chars_of(alphabet: &str) -> impl Strategy<Value = char> {
    prop::sample::select(alphabet.chars().collect::<Vec<_>>())
}

fn string_of(alphabet: &str, len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(chars_of(alphabet), len).prop_map(String::from_iter)
}

/// Any text a client could send: arbitrary Unicode (printable, or any `char` at all), text of
/// `alphabet` and control characters (short, and long runs), up to ~10 000 characters.
fn text(alphabet: &str) -> BoxedStrategy<String> {
    let alphabet = format!("{alphabet}{CONTROLS}");
    prop_oneof![
        3 => any::<String>(),
        1 => prop::collection::vec(any::<char>(), 0..10_000).prop_map(String::from_iter),
        5 => string_of(&alphabet, 0..48),
        1 => string_of(&alphabet, 0..10_000),
    ]
    .boxed()
}

/// Like [`text`], at most 48 characters: for the many strings of one input (lists of pairs).
fn short_text(alphabet: &str) -> BoxedStrategy<String> {
    let alphabet = format!("{alphabet}{CONTROLS}");
    prop_oneof![1 => "\\PC{0,24}", 1 => prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter), 3 => string_of(&alphabet, 0..48)]
        .boxed()
}

/// Concatenations of fragments a parser looks for, to reach its deeper branches.
fn fragments(parts: &'static [&'static str], max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(parts), 0..max).prop_map(|v| v.concat()).boxed()
}

/// A valid `base` after up to three random edits (a character of `alphabet` or a control
/// character inserted or replacing one, or a character deleted): inputs on both sides of
/// the rules' edges.
fn mutated<S: Strategy<Value = String> + 'static>(base: S, alphabet: &str) -> BoxedStrategy<String> {
    let alphabet: Vec<char> = format!("{alphabet}{CONTROLS}").chars().collect();
    let edit = (0u8..3, any::<Index>(), prop::sample::select(alphabet));
    (base, prop::collection::vec(edit, 1..=3))
        .prop_map(|(s, edits)| {
            let mut chars: Vec<char> = s.chars().collect();
            for (kind, at, c) in edits {
                match kind {
                    0 => chars.insert(at.index(chars.len() + 1), c),
                    _ if chars.is_empty() => {}
                    1 => {
                        chars.remove(at.index(chars.len()));
                    }
                    _ => {
                        let i = at.index(chars.len());
                        chars[i] = c;
                    }
                }
            }
            chars.into_iter().collect()
        })
        .boxed()
}

/// Inputs around a rule: arbitrary text of `alphabet`, valid values, and valid values after
/// a few edits.
fn around<S: Strategy<Value = String> + 'static>(valid: impl Fn() -> S, alphabet: &str) -> BoxedStrategy<String> {
    prop_oneof![2 => text(alphabet), 1 => valid(), 3 => mutated(valid(), alphabet)].boxed()
}

/// `good`, or with probability `p` `bad`: documents whose fields are mostly valid.
fn pick<T: Debug + Clone + 'static>(
    p: f64,
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    (prop::bool::weighted(p), good, bad).prop_map(|(junk, g, b)| if junk { b } else { g }).boxed()
}

/// `s` with `c` inserted at a character boundary chosen by `at` (start and end included).
fn insert_at(s: &str, at: Index, c: char) -> String {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let mut out = s.to_owned();
    out.insert(bounds[at.index(bounds.len())], c);
    out
}

/// `s` with `c` inserted strictly inside it (never first or last); `s` has two characters or more.
fn insert_inside(s: &str, at: Index, c: char) -> String {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    let mut out = s.to_owned();
    out.insert(bounds[at.index(bounds.len())], c);
    out
}

/// `s` with the ASCII letters whose bit is set in `mask` upper-cased.
fn random_case(s: &str, mask: u64) -> String {
    s.chars().enumerate().map(|(i, c)| if (mask >> (i % 64)) & 1 == 1 { c.to_ascii_uppercase() } else { c }).collect()
}

/// Whitespace a form may leave around a value.
fn padding() -> impl Strategy<Value = String> {
    "[ \t\n]{0,2}"
}

/// The result is a refusal naming `field`, with a message.
fn refused<T: Debug>(result: Result<T, ValidationError>, field: &str, input: &dyn Debug) -> Result<(), TestCaseError> {
    match result {
        Ok(value) => Err(TestCaseError::fail(format!("{input:?} was accepted as {value:?}; its rules refuse it"))),
        Err(e) => {
            prop_assert_eq!(e.field.as_str(), field, "input {:?}: {}", input, e);
            prop_assert!(!e.message.trim().is_empty(), "input {:?}: empty message", input);
            prop_assert_eq!(e.to_string(), format!("{}: {}", e.field, e.message));
            Ok(())
        }
    }
}

/// Any error names a field and carries a message.
fn well_formed(e: &ValidationError, field: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.field.as_str(), field);
    prop_assert!(!e.message.trim().is_empty(), "empty message for {}", field);
    Ok(())
}

// ───────────────────────────── App slugs ─────────────────────────────

mod slug {
    use super::*;

    pub const NOISE: &str = "abcmnwxyz0189--_.A Zé/:";

    /// The documented rule: 1–63 lowercase letters, digits and hyphens, a letter first, not a
    /// hyphen last, and not a slug the console reserves for its own addresses.
    fn documented(raw: &str) -> bool {
        (1..=63).contains(&raw.chars().count())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && !raw.ends_with('-')
            && raw != "new"
    }

    pub fn valid() -> impl Strategy<Value = String> {
        "[a-z]([a-z0-9-]{0,61}[a-z0-9])?".prop_filter("reserved", |s| s != "new")
    }

    fn near_miss() -> impl Strategy<Value = String> {
        prop_oneof![
            (valid(), any::<Index>(), chars_of("ABMZ_. /:@é\0\n\u{2028}")).prop_map(|(s, at, c)| insert_at(&s, at, c)),
            (valid(), chars_of("0123456789-")).prop_map(|(s, c)| format!("{c}{s}")),
            valid().prop_map(|s| format!("{s}-")),
            valid().prop_map(|s| format!("{s}{}", "a".repeat(64 - s.len()))),
            valid().prop_map(|s| s.to_ascii_uppercase()),
            Just(String::new()),
            Just("new".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Any text: accepted exactly when the documented rule says so; an accepted slug is the
        /// input, through `as_str`, `Display`, `String::from`, `TryFrom` and a second parse.
        #[test]
        fn any_text_is_accepted_exactly_when_the_documented_rule_allows_it(
            raw in prop_oneof![4 => around(valid, NOISE), 1 => "[a-z][a-z0-9-]{60,63}[a-z0-9-]"],
        ) {
            match AppSlug::parse(&raw) {
                Ok(slug) => {
                    prop_assert!(documented(&raw), "accepted {:?}", raw);
                    prop_assert_eq!(slug.as_str(), raw.as_str());
                    prop_assert_eq!(slug.to_string(), raw.clone());
                    prop_assert_eq!(AppSlug::parse(&slug.to_string()), Ok(slug.clone()));
                    prop_assert_eq!(AppSlug::try_from(raw.clone()), Ok(slug.clone()));
                    prop_assert_eq!(String::from(slug), raw);
                }
                Err(e) => {
                    prop_assert!(!documented(&raw), "refused {:?}: {}", raw, e);
                    well_formed(&e, "slug")?;
                }
            }
        }

        #[test]
        fn generated_slugs_are_accepted_as_given(raw in valid()) {
            let slug = AppSlug::parse(&raw);
            prop_assert_eq!(slug.as_ref().map(AppSlug::as_str), Ok(raw.as_str()));
        }

        /// One forbidden character, a leading digit or hyphen, a trailing hyphen, 64
        /// characters, upper case, empty, reserved.
        #[test]
        fn near_misses_are_refused_with_the_slug_field(raw in near_miss()) {
            refused(AppSlug::parse(&raw), "slug", &raw)?;
        }
    }
}

// ───────────────────────────── Image references ─────────────────────────────

mod image {
    use super::*;

    /// A valid image reference and its expected parts.
    #[derive(Debug, Clone)]
    pub struct Valid {
        pub text: String,
        pub repository: String,
        pub tag: Option<String>,
        pub digest: Option<String>,
    }

    /// A path component: lowercase letters and digits, with `.`, `_` or `-` between them.
    pub fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}"
    }

    /// A registry host that looks like one: with a dot, or a port.
    fn registry() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){1,3}(:[0-9]{1,5})?",
            "localhost:[0-9]{1,5}",
            "[0-9]{12}\\.dkr\\.ecr\\.[a-z]{2}-[a-z]{4,9}-[1-9]\\.amazonaws\\.com",
        ]
    }

    pub fn tag() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
    }

    pub fn digest() -> impl Strategy<Value = String> {
        "[0-9a-f]{64}".prop_map(|hex| format!("sha256:{hex}"))
    }

    /// `[registry/]path[/path…]` then `:tag` or `@sha256:<64 hex>`, at most 255 characters.
    pub fn valid() -> impl Strategy<Value = Valid> {
        (
            prop::option::of(registry()),
            prop::collection::vec(component(), 1..=3),
            prop_oneof![tag().prop_map(|t| (Some(t), None)), digest().prop_map(|d| (None, Some(d)))],
        )
            .prop_map(|(registry, path, (tag, digest))| {
                let repository = registry.into_iter().chain(path).collect::<Vec<_>>().join("/");
                let text = match (&tag, &digest) {
                    (Some(t), _) => format!("{repository}:{t}"),
                    (_, Some(d)) => format!("{repository}@{d}"),
                    _ => unreachable!(),
                };
                Valid { text, repository, tag, digest }
            })
            .prop_filter("at most 255 characters", |v| v.text.len() <= 255)
    }

    /// Replaces the last path component of `v` by `f(component)`.
    fn with_last_component(v: &Valid, f: impl Fn(&str) -> String) -> String {
        let (head, last) = v.repository.rsplit_once('/').unwrap_or(("", v.repository.as_str()));
        let repository = if head.is_empty() { f(last) } else { format!("{head}/{}", f(last)) };
        reference_on(v, &repository)
    }

    fn reference_on(v: &Valid, repository: &str) -> String {
        match (&v.tag, &v.digest) {
            (Some(t), _) => format!("{repository}:{t}"),
            (_, Some(d)) => format!("{repository}@{d}"),
            _ => unreachable!(),
        }
    }

    /// Characters no repository or tag may contain (not `:`, `@` or `/`, which change the
    /// reference's structure, and no whitespace, which trimming may remove).
    const FORBIDDEN: &str = "!#$%&*+,;<=>?[]^`{|}~\"'\\é\0ß日";

    fn near_miss() -> impl Strategy<Value = String> {
        let tagged = || valid().prop_filter("tagged", |v| v.tag.is_some());
        let pinned = || valid().prop_filter("pinned by digest", |v| v.digest.is_some());
        // Two components at least: a first one may also be read as a registry host.
        let nested = || valid().prop_filter("two components", |v| v.repository.contains('/'));
        prop_oneof![
            // Neither tag nor digest.
            valid().prop_map(|v| v.repository),
            // An upper-case letter or a forbidden character in the repository.
            (nested(), any::<Index>(), chars_of("ABCXYZ"))
                .prop_map(|(v, at, c)| with_last_component(&v, |p| insert_at(p, at, c))),
            (valid(), any::<Index>(), chars_of(FORBIDDEN))
                .prop_map(|(v, at, c)| with_last_component(&v, |p| insert_at(p, at, c))),
            // Blanks inside (trimming takes them off the ends).
            (valid(), any::<Index>(), chars_of(" \t\n")).prop_map(|(v, at, c)| insert_inside(&v.text, at, c)),
            // An empty path component.
            valid().prop_map(|v| with_last_component(&v, |p| format!("/{p}"))),
            valid().prop_map(|v| reference_on(&v, &format!("{}/", v.repository))),
            valid().prop_map(|v| reference_on(&v, &format!("/{}", v.repository))),
            // Tags: empty, 129 characters, a leading '.' or '-', a forbidden character.
            tagged().prop_map(|v| format!("{}:", v.repository)),
            tagged().prop_map(|v| format!("{}:{}", v.repository, "t".repeat(129))),
            (tagged(), chars_of(".-")).prop_map(|(v, c)| format!("{}:{c}{}", v.repository, v.tag.unwrap())),
            (tagged(), any::<Index>(), chars_of(FORBIDDEN)).prop_map(|(v, at, c)| format!(
                "{}:{}",
                v.repository,
                insert_at(&v.tag.unwrap(), at, c)
            )),
            // Digests: 63 or 65 hex digits, an upper-case or non-hex digit, another algorithm.
            pinned().prop_map(|v| format!("{}@{}", v.repository, &v.digest.unwrap()[..70])),
            pinned().prop_map(|v| format!("{}@{}0", v.repository, v.digest.unwrap())),
            (pinned(), 7usize..71, chars_of("ABCDEFgxz")).prop_map(|(v, i, c)| {
                let mut d = v.digest.unwrap();
                d.replace_range(i..=i, &c.to_string());
                format!("{}@{d}", v.repository)
            }),
            (pinned(), prop::sample::select(&["sha512:", "SHA256:", "sha256", "", "md5:"][..]))
                .prop_map(|(v, algo)| format!("{}@{algo}{}", v.repository, &v.digest.unwrap()[7..])),
        ]
    }

    pub const NOISE: &[&str] = &[
        "a",
        "z",
        "0",
        "9",
        "A",
        "Z",
        ".",
        "-",
        "_",
        "/",
        ":",
        "@",
        "sha256:",
        "0123456789abcdef0123456789abcdef",
        "localhost",
        "example.com",
        " ",
        "é",
        "\0",
        "\n",
        "latest",
        ":5000",
        "//",
    ];

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn generated_images_are_accepted_with_their_parts(v in valid(), before in padding(), after in padding()) {
            let raw = format!("{before}{}{after}", v.text);
            let image = ImageRef::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
            prop_assert_eq!(image.repository(), v.repository.as_str());
            prop_assert_eq!(image.tag(), v.tag.as_deref());
            prop_assert_eq!(image.digest(), v.digest.as_deref());
            prop_assert_eq!(image.to_string(), v.text.clone());
            prop_assert_eq!(String::from(image.clone()), v.text.clone());
            prop_assert_eq!(ImageRef::try_from(v.text.clone()), Ok(image));
        }

        /// Accepted images obey the documented shape and round-trip through `Display`.
        #[test]
        fn accepted_images_follow_the_documented_shape(
            raw in prop_oneof![around(|| valid().prop_map(|v| v.text), "abz09.-_/:@A "), fragments(NOISE, 14)],
        ) {
            let Ok(image) = ImageRef::parse(&raw) else { return Ok(()) };
            let trimmed = raw.trim();
            prop_assert!(!trimmed.is_empty() && trimmed.len() <= 255);
            prop_assert_eq!(image.to_string(), trimmed);
            prop_assert_eq!(ImageRef::parse(&image.to_string()), Ok(image.clone()));
            match (image.tag(), image.digest()) {
                (Some(tag), None) => {
                    prop_assert!((1..=128).contains(&tag.len()), "tag {:?}", tag);
                    prop_assert!(tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)), "tag {:?}", tag);
                    prop_assert!(!tag.starts_with(['.', '-']), "tag {:?}", tag);
                }
                (None, Some(digest)) => {
                    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
                    prop_assert!(hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')), "{:?}", digest);
                }
                other => prop_assert!(false, "tag and digest: {:?}", other),
            }
            let components: Vec<&str> = image.repository().split('/').collect();
            prop_assert!(components.iter().all(|c| !c.is_empty()), "empty component in {:?}", image.repository());
            let path = |c: &str| c.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
            prop_assert!(components[1..].iter().all(|c| path(c)), "repository {:?}", image.repository());
            let host = |c: &str| c.contains(['.', ':']) && c.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
            prop_assert!(path(components[0]) || host(components[0]), "repository {:?}", image.repository());
        }

        /// No tag or digest, upper case or a forbidden character, an empty component, a bad
        /// tag, a bad digest.
        #[test]
        fn near_misses_are_refused_with_the_image_field(raw in near_miss()) {
            refused(ImageRef::parse(&raw), "image", &raw)?;
        }

        /// At most 255 characters, trimmed.
        #[test]
        fn images_are_refused_past_255_characters(n in prop_oneof![3usize..400, 250usize..262], registry in prop::bool::ANY) {
            let prefix = if registry { "r.io/" } else { "" };
            let path = n.saturating_sub(prefix.len() + 2);
            prop_assume!(path > 0);
            let raw = format!("{prefix}{}:1", "a".repeat(path));
            prop_assert_eq!(raw.len(), n);
            match ImageRef::parse(&raw) {
                Ok(_) => prop_assert!(n <= 255, "{} characters accepted", n),
                Err(e) => {
                    prop_assert!(n > 255, "{} characters refused: {}", n, e);
                    well_formed(&e, "image")?;
                }
            }
        }

        /// The documented forms are `registry/repo:tag` and `registry/repo@sha256:…`, and a
        /// repository "may contain only lowercase letters, digits, '.', '_', '-' and '/'". A
        /// reference whose repository is a registry host alone (`localhost:5000:1`,
        /// `Example.COM:v1`) or carries its tag (`shiny:4.4@sha256:…`) names no repository a
        /// registry could serve: refused (it was accepted, checked as a registry host).
        #[test]
        fn a_repository_of_one_component_is_a_lowercase_path_not_a_registry(
            host in prop_oneof![
                "localhost:[0-9]{1,5}",
                "[a-z]{1,8}\\.[a-z]{2,5}:[0-9]{1,5}",
                "[A-Z][a-z]{0,7}\\.[A-Za-z]{2,5}",
                "[a-z]{1,8}:[0-9]\\.[0-9]",
            ],
            pin in prop_oneof![tag().prop_map(|t| format!(":{t}")), digest().prop_map(|d| format!("@{d}"))],
        ) {
            let raw = format!("{host}{pin}");
            refused(ImageRef::parse(&raw), "image", &raw)?;
        }
    }
}

// ───────────────────────────── Fargate sizes ─────────────────────────────

mod fargate {
    use super::*;

    const GIB: u32 = 1024;

    /// The Fargate task sizes as AWS documents them: CPU units, and the memory (MiB) allowed.
    fn documented(cpu: u32) -> Vec<u32> {
        let gib = |lo: u32, hi: u32, step: u32| (lo..=hi).step_by(step as usize).map(|g| g * GIB).collect::<Vec<_>>();
        match cpu {
            256 => vec![512, GIB, 2 * GIB],
            512 => gib(1, 4, 1),
            1024 => gib(2, 8, 1),
            2048 => gib(4, 16, 1),
            4096 => gib(8, 30, 1),
            8192 => gib(16, 60, 4),
            16384 => gib(32, 120, 8),
            _ => vec![],
        }
    }

    const CPUS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

    fn cpu() -> impl Strategy<Value = u32> {
        prop_oneof![
            prop::sample::select(CPUS.to_vec()),
            (prop::sample::select(CPUS.to_vec()), -2i64..=2).prop_map(|(c, d)| (i64::from(c) + d) as u32),
            (0u32..=64).prop_map(|k| k * 256),
            any::<u32>(),
        ]
    }

    fn memory() -> impl Strategy<Value = u32> {
        prop_oneof![
            (0u32..=256).prop_map(|k| k * 512),
            (1u32..=130, -2i64..=2).prop_map(|(g, d)| (i64::from(g * GIB) + d) as u32),
            any::<u32>(),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Exactly the documented pairs are accepted; a bad CPU is refused on `cpu`, a bad
        /// memory for a good CPU on `memory`.
        #[test]
        fn exactly_the_documented_pairs_are_accepted(cpu in cpu(), memory in memory()) {
            let allowed = documented(cpu);
            match FargateSize::new(cpu, memory) {
                Ok(size) => {
                    prop_assert!(allowed.contains(&memory), "{}/{} accepted", cpu, memory);
                    prop_assert_eq!((size.cpu(), size.memory()), (cpu, memory));
                }
                Err(e) if allowed.is_empty() => well_formed(&e, "cpu")?,
                Err(e) => {
                    prop_assert!(!allowed.contains(&memory), "{}/{} refused: {}", cpu, memory, e);
                    well_formed(&e, "memory")?;
                }
            }
            prop_assert_eq!(FargateSize::memories_for(cpu), (!allowed.is_empty()).then_some(allowed));
        }
    }

    /// Every documented pair and its neighbours, one by one; `all()` lists exactly the
    /// documented pairs, smallest first.
    #[test]
    fn every_pair_is_checked_and_all_lists_the_documented_ones() {
        let mut expected = Vec::new();
        for cpu in CPUS.iter().flat_map(|c| [c - 1, *c, c + 1]) {
            let allowed = documented(cpu);
            for memory in (0..=260u32).map(|k| k * 512).flat_map(|m| [m.saturating_sub(1), m, m + 1]) {
                assert_eq!(FargateSize::new(cpu, memory).is_ok(), allowed.contains(&memory), "{cpu}/{memory}");
            }
            expected.extend(allowed.into_iter().map(|memory| (cpu, memory)));
        }
        let all: Vec<(u32, u32)> = FargateSize::all().iter().map(|s| (s.cpu(), s.memory())).collect();
        assert_eq!(all, expected);
    }
}

// ───────────────────────────── Keywords: roles, architectures, tools, modes, presets, rollouts ─────────────────────────────

mod keywords {
    use super::*;

    const NOISE: &str = "adminviewrx86_4ARMcurlwgetnforcdtasEN -";

    fn variant(words: &'static [&'static str]) -> impl Strategy<Value = (&'static str, String)> {
        (prop::sample::select(words), any::<u64>()).prop_map(|(w, mask)| (w, random_case(w, mask)))
    }

    proptest! {
        #![proptest_config(config())]

        /// `admin` or `viewer`, exactly (case matters: it comes from configuration and URLs).
        #[test]
        fn roles_are_admin_or_viewer_exactly(raw in prop_oneof![text(NOISE), variant(&["admin", "viewer"]).prop_map(|v| v.1)]) {
            let expected = match raw.as_str() {
                "admin" => Some(Role::Admin),
                "viewer" => Some(Role::Viewer),
                _ => None,
            };
            prop_assert_eq!(Role::parse(&raw), expected);
            if let Some(role) = expected {
                prop_assert_eq!(role.as_str(), raw.as_str());
                prop_assert_eq!(role.to_string(), raw.clone());
                prop_assert_eq!(Role::parse(role.as_str()), Some(role));
            }
        }

        /// `x86_64` or `arm64`, in any case.
        #[test]
        fn architectures_are_x86_64_or_arm64_in_any_case(
            raw in prop_oneof![text(NOISE), variant(&["x86_64", "arm64"]).prop_map(|v| v.1)],
        ) {
            match Architecture::parse(&raw) {
                Ok(arch) => {
                    prop_assert!(raw.eq_ignore_ascii_case(arch.as_str()), "{:?} read as {:?}", raw, arch);
                    prop_assert_eq!(Architecture::parse(arch.as_str()), Ok(arch));
                }
                Err(e) => {
                    prop_assert!(!raw.eq_ignore_ascii_case("x86_64") && !raw.eq_ignore_ascii_case("arm64"), "{:?}", raw);
                    well_formed(&e, "architecture")?;
                }
            }
        }

        /// `curl` or `wget`, in any case, around blanks.
        #[test]
        fn health_check_tools_are_curl_or_wget(
            raw in prop_oneof![text(NOISE), (variant(&["curl", "wget"]), padding(), padding()).prop_map(|(v, a, b)| format!("{a}{}{b}", v.1))],
        ) {
            match health_check_tool(&raw) {
                Ok(tool) => {
                    prop_assert!(raw.trim().eq_ignore_ascii_case(tool.as_str()), "{:?} read as {:?}", raw, tool);
                    prop_assert_eq!(health_check_tool(tool.as_str()), Ok(tool));
                }
                Err(e) => {
                    let t = raw.trim();
                    prop_assert!(!t.eq_ignore_ascii_case("curl") && !t.eq_ignore_ascii_case("wget"), "{:?}", raw);
                    well_formed(&e, "health_check_tool")?;
                }
            }
        }

        /// `enforced` or `transitions`, in any case, around blanks.
        #[test]
        fn schedule_modes_are_enforced_or_transitions(
            raw in prop_oneof![text(NOISE), (variant(&["enforced", "transitions"]), padding(), padding()).prop_map(|(v, a, b)| format!("{a}{}{b}", v.1))],
        ) {
            match Mode::parse(&raw) {
                Ok(mode) => {
                    prop_assert!(raw.trim().eq_ignore_ascii_case(mode.as_str()), "{:?} read as {:?}", raw, mode);
                    prop_assert_eq!(Mode::parse(mode.as_str()), Ok(mode));
                }
                Err(e) => {
                    let t = raw.trim();
                    prop_assert!(!t.eq_ignore_ascii_case("enforced") && !t.eq_ignore_ascii_case("transitions"), "{:?}", raw);
                    well_formed(&e, "mode")?;
                }
            }
        }

        /// A preset's key is its identifier in URLs: exact.
        #[test]
        fn presets_are_found_by_their_exact_key(
            raw in prop_oneof![text("office-hursxtndwkaylsn"), variant(&["office-hours", "extended", "weekdays", "always-on"]).prop_map(|v| v.1)],
        ) {
            match Preset::from_key(&raw) {
                Some(preset) => prop_assert_eq!(preset.key(), raw.as_str()),
                None => prop_assert!(Preset::ALL.iter().all(|p| p.key() != raw)),
            }
        }

        /// ECS's rollout states, exactly as ECS spells them.
        #[test]
        fn rollout_states_are_ecs_spellings(
            raw in prop_oneof![text("IN_PROGRESSCOMPLETEDFAILED"), variant(&["in_progress", "completed", "failed"]).prop_map(|v| v.1)],
        ) {
            match RolloutState::parse(&raw) {
                Some(state) => prop_assert_eq!(state.as_str(), raw.as_str()),
                None => prop_assert!(!["IN_PROGRESS", "COMPLETED", "FAILED"].contains(&raw.as_str())),
            }
        }
    }
}

// ───────────────────────────── Email addresses ─────────────────────────────

mod email {
    use super::*;

    /// The characters of a local part besides letters and digits, as documented.
    const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
    const ATEXT: &str = "abcxyzABCXYZ0189!#$%&'*+/=?^_`{|}~-";

    fn atom() -> impl Strategy<Value = String> {
        string_of(ATEXT, 1..13)
    }

    fn local() -> impl Strategy<Value = String> {
        prop::collection::vec(atom(), 1..=4).prop_map(|atoms| atoms.join("."))
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,14}[a-zA-Z0-9])?"
    }

    fn domain() -> impl Strategy<Value = String> {
        prop::collection::vec(label(), 2..=4).prop_map(|labels| labels.join("."))
    }

    /// What an accepted address must look like, from the documentation.
    fn documented_shape(email: &str) -> Result<(), String> {
        let (local, domain) = email.split_once('@').ok_or("no @")?;
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        let checks = [
            (email.len() <= 254, "at most 254 characters"),
            ((1..=64).contains(&local.len()), "a local part of 1 to 64 characters"),
            (
                local.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || LOCAL_SPECIALS.contains(c)),
                "local characters",
            ),
            (!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."), "dots in the local part"),
            (domain.contains('.') && domain.split('.').all(label_ok), "domain labels"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, rule)) => Err(format!("{email:?} breaks: {rule}")),
            None => Ok(()),
        }
    }

    /// A domain of `len` characters, labels at most 63 long.
    fn domain_of_len(len: usize) -> String {
        let mut labels = vec!["b".to_owned()];
        let mut left = len - 1;
        while left > 64 {
            labels.push("c".repeat(62));
            left -= 63;
        }
        labels.push("d".repeat(left - 1));
        labels.join(".")
    }

    fn near_miss() -> impl Strategy<Value = String> {
        let parts = || (local(), domain());
        prop_oneof![
            parts().prop_map(|(l, d)| format!("{l}{d}")),
            domain().prop_map(|d| format!("@{d}")),
            local().prop_map(|l| format!("{l}@")),
            parts().prop_map(|(l, d)| format!(".{l}@{d}")),
            parts().prop_map(|(l, d)| format!("{l}.@{d}")),
            (local(), local(), domain()).prop_map(|(a, b, d)| format!("{a}..{b}@{d}")),
            (parts(), any::<Index>(), chars_of("\"(),:;<>[\\]é\0@ß"))
                .prop_map(|((l, d), at, c)| format!("{}@{d}", insert_at(&l, at, c))),
            (parts(), any::<Index>(), chars_of(" \t\n")).prop_map(|((l, d), at, c)| insert_inside(
                &format!("{l}@{d}"),
                at,
                c
            )),
            parts().prop_map(|(l, _)| format!("{l}@{}", "localhost")),
            (local(), label(), label()).prop_map(|(l, a, b)| format!("{l}@-{a}.{b}")),
            (local(), label(), label()).prop_map(|(l, a, b)| format!("{l}@{a}-.{b}")),
            (local(), label(), label()).prop_map(|(l, a, b)| format!("{l}@{a}..{b}")),
            parts().prop_map(|(l, d)| format!("{l}@{d}.")),
            (parts(), any::<Index>(), chars_of("_!+é*'/@ß"))
                .prop_map(|((l, d), at, c)| format!("{l}@{}", insert_at(&d, at, c))),
            label().prop_map(|l| format!("a@{}.{l}", "e".repeat(64))),
            domain().prop_map(|d| format!("{}@{d}", "a".repeat(65))),
            Just(format!("a@{}", domain_of_len(253))),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Any text: an accepted address is the input trimmed and lower-cased, of the
        /// documented shape, and parses to itself.
        #[test]
        fn accepted_addresses_are_lower_cased_and_of_the_documented_shape(
            raw in prop_oneof![
                around(|| (local(), domain()).prop_map(|(l, d)| format!("{l}@{d}")), "ab.@-_+ZAé\u{212a}"),
                fragments(&["a", "Z", "9", ".", "@", "-", "+", "example", ".org", "..", " ", "é", "\"", "\u{212a}"], 12),
            ],
        ) {
            match EmailAddress::parse(&raw) {
                Ok(email) => {
                    prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
                    prop_assert_eq!(email.to_string(), email.as_str());
                    documented_shape(email.as_str()).map_err(TestCaseError::fail)?;
                    prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
                }
                Err(e) => well_formed(&e, "email")?,
            }
        }

        #[test]
        fn generated_addresses_are_accepted_and_lower_cased(
            local in local(), domain in domain(), before in padding(), after in padding(),
        ) {
            let raw = format!("{before}{local}@{domain}{after}");
            let email = EmailAddress::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
            prop_assert_eq!(email.as_str(), format!("{local}@{domain}").to_lowercase());
        }

        /// No `@`, an empty or dotted-wrong local part, a forbidden character, a bad domain,
        /// a local part of 65 characters, a label of 64, 255 characters in all.
        #[test]
        fn near_misses_are_refused_with_the_email_field(raw in near_miss()) {
            refused(EmailAddress::parse(&raw), "email", &raw)?;
        }

        /// At most 254 characters in all, 64 in the local part, 63 in a label.
        #[test]
        fn addresses_have_their_documented_lengths(
            total in prop_oneof![6usize..300, 250usize..260],
            local_len in prop_oneof![1usize..80, 62usize..67],
            label_len in prop_oneof![1usize..80, 61usize..66],
        ) {
            let long = format!("a@{}", domain_of_len(total - 2));
            prop_assert_eq!(long.len(), total);
            prop_assert_eq!(EmailAddress::parse(&long).is_ok(), total <= 254, "{} characters", total);
            let local = format!("{}@example.org", "l".repeat(local_len));
            prop_assert_eq!(EmailAddress::parse(&local).is_ok(), local_len <= 64, "local part of {}", local_len);
            let label = format!("a@{}.org", "l".repeat(label_len));
            prop_assert_eq!(EmailAddress::parse(&label).is_ok(), label_len <= 63, "label of {}", label_len);
        }
    }
}

// ───────────────────────────── NAME=value lines ─────────────────────────────

mod lines {
    use super::*;

    /// A name as the form shows it: no `=`, no line break, no blank at either end.
    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_ .:-]{0,20}".prop_map(|n| n.trim().to_owned())
    }

    /// A value: anything on one line (`=` included).
    fn value() -> impl Strategy<Value = String> {
        "[^\\n\\r]{0,30}"
    }

    fn blank_line() -> impl Strategy<Value = String> {
        "[ \t\r]{0,3}"
    }

    proptest! {
        #![proptest_config(config())]

        /// Any text: one pair per non-blank line, split at its first `=`, the name trimmed; or
        /// a refusal naming the given field and a line.
        #[test]
        fn any_text_gives_one_pair_per_non_blank_line(raw in prop_oneof![text("A=b \r\n"), fragments(&["A", "=", "b", " ", "\n", "\r\n", "\r", "\t", "é"], 20)]) {
            match parse_lines("env", &raw) {
                Ok(pairs) => {
                    let lines: Vec<&str> = raw.lines().filter(|l| !l.trim_end_matches('\r').trim().is_empty()).collect();
                    prop_assert_eq!(pairs.len(), lines.len());
                    for ((name, value), line) in pairs.iter().zip(lines) {
                        let line = line.trim_end_matches('\r');
                        prop_assert!(!name.contains('=') && name.trim() == name, "name {:?}", name);
                        prop_assert!(line.ends_with(&format!("={value}")), "{:?} from {:?}", value, line);
                        prop_assert!(!value.contains('\n'));
                    }
                }
                Err(e) => {
                    well_formed(&e, "env")?;
                    prop_assert!(e.message.starts_with("line "), "{}", e.message);
                }
            }
        }

        /// `parse_lines` inverts `format_lines`, with blank lines and CRLF endings anywhere.
        #[test]
        fn lines_round_trip_with_blank_lines_and_crlf(
            pairs in prop::collection::vec((name(), value()), 0..12),
            blanks in prop::collection::vec(prop::option::of(blank_line()), 0..12),
            crlf in prop::bool::ANY,
        ) {
            let mut lines: Vec<String> = format_lines(&pairs).lines().map(str::to_owned).collect();
            for (i, blank) in blanks.into_iter().enumerate() {
                if let Some(blank) = blank {
                    lines.insert(i.min(lines.len()), blank);
                }
            }
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            prop_assert_eq!(parse_lines("tags", &text), Ok(pairs));
        }

        /// A non-blank line without `=` is refused with its number, 1-based, blank lines counted.
        #[test]
        fn a_line_without_equals_is_refused_with_its_number(
            before in prop::collection::vec(prop_oneof![(name(), value()).prop_map(|(n, v)| format!("{n}={v}")), blank_line()], 0..8),
            bad in "[^=\\n\\r]{0,20}[^=\\s][^=\\n\\r]{0,5}",
            after in prop::collection::vec("[^\\n\\r]{0,10}", 0..4),
        ) {
            let number = before.len() + 1;
            let text = before.into_iter().chain([bad]).chain(after).collect::<Vec<_>>().join("\n");
            let e = parse_lines("tags", &text).unwrap_err();
            well_formed(&e, "tags")?;
            prop_assert!(e.message.starts_with(&format!("line {number}:")), "{} (expected line {})", e.message, number);
        }
    }
}

// ───────────────────────────── Environment variables ─────────────────────────────

mod env {
    use super::*;

    fn is_name(name: &str) -> bool {
        name.len() <= 255
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    pub fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,24}"
    }

    pub fn value() -> impl Strategy<Value = String> {
        "[^\\x00\\n\\r]{0,40}"
    }

    /// Distinct names, values on one line, in any order.
    pub fn valid() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::btree_map(name(), value(), 0..=40)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
            .prop_shuffle()
    }

    fn bytes(pairs: &[(String, String)]) -> usize {
        pairs.iter().map(|(n, v)| n.len() + v.len()).sum()
    }

    fn near_miss() -> impl Strategy<Value = Vec<(String, String)>> {
        let some = || valid().prop_filter("not empty", |v| !v.is_empty());
        prop_oneof![
            (some(), chars_of("0123456789")).prop_map(|(mut v, d)| {
                v[0].0 = format!("{d}{}", v[0].0);
                v
            }),
            (some(), any::<Index>(), chars_of("-.$é=:/\0+@ß")).prop_map(|(mut v, at, c)| {
                v[0].0 = insert_at(&v[0].0, at, c);
                v
            }),
            some().prop_map(|mut v| {
                v[0].0 = "N".repeat(256);
                v
            }),
            (some(), padding()).prop_map(|(mut v, p)| {
                v[0].0 = p;
                v
            }),
            (some(), any::<Index>(), chars_of("\0\n\r")).prop_map(|(mut v, at, c)| {
                v[0].1 = insert_at(&v[0].1, at, c);
                v
            }),
            (some(), any::<Index>(), padding(), padding()).prop_map(|(mut v, at, a, b)| {
                let (name, _) = v[at.index(v.len())].clone();
                v.push((format!("{a}{name}{b}"), "again".into()));
                v
            }),
            Just((0..201).map(|i| (format!("V{i}"), String::new())).collect()),
            valid().prop_map(|mut v| {
                let fill = (Environment::MAX_BYTES + 1).saturating_sub(bytes(&v) + 30);
                v.push(("Z".repeat(30), "x".repeat(fill)));
                v
            }),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Any pairs: an accepted environment obeys every documented limit and is the input,
        /// names trimmed, sorted by name.
        #[test]
        fn accepted_environments_obey_every_documented_limit(
            pairs in prop_oneof![
                valid(),
                prop::collection::vec(
                    (prop_oneof![9 => name(), 1 => mutated(name(), "AZ_az09 -=é")], prop_oneof![9 => value(), 1 => mutated(value(), "\0\n\r")]),
                    0..12,
                ),
                prop::collection::vec((short_text("AZ_az09 -=é"), short_text("ab=\0\n\r")), 0..220),
            ],
        ) {
            match Environment::parse(pairs.clone()) {
                Ok(env) => {
                    let vars = env.vars();
                    prop_assert!(vars.len() <= Environment::MAX_VARIABLES);
                    prop_assert!(vars.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no name twice");
                    prop_assert!(vars.iter().all(|(n, _)| is_name(n)), "{:?}", vars);
                    prop_assert!(vars.iter().all(|(_, v)| !v.contains(['\0', '\n', '\r'])));
                    prop_assert!(bytes(vars) <= Environment::MAX_BYTES);
                    let mut given: Vec<(String, String)> = pairs.into_iter().map(|(n, v)| (n.trim().to_owned(), v)).collect();
                    given.sort();
                    prop_assert_eq!(vars, &given[..]);
                }
                Err(e) => well_formed(&e, "env")?,
            }
        }

        #[test]
        fn generated_environments_are_accepted_sorted(pairs in valid()) {
            let mut sorted = pairs.clone();
            sorted.sort();
            let env = Environment::parse(pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(env.vars(), &sorted[..]);
        }

        /// A name starting with a digit, with a forbidden character, of 256 characters or
        /// blank; a value with NUL or a line break; a name twice; 201 variables; 32 KiB + 1.
        #[test]
        fn near_misses_are_refused_with_the_env_field(pairs in near_miss()) {
            refused(Environment::parse(pairs.clone()), "env", &pairs)?;
        }

        /// Names up to 255 characters and 32 KiB in all are fine.
        #[test]
        fn the_limits_themselves_are_accepted(pairs in valid(), long in prop_oneof![1usize..=255, Just(255)]) {
            let mut pairs = pairs;
            pairs.retain(|(n, _)| !n.starts_with("ZZ"));
            let name = format!("ZZ{}", "z".repeat(long.max(3) - 2));
            let fill = Environment::MAX_BYTES - bytes(&pairs) - name.len();
            pairs.push((name, "v".repeat(fill)));
            prop_assert_eq!(bytes(&pairs), Environment::MAX_BYTES);
            prop_assert!(Environment::parse(pairs).is_ok());
            let most: Vec<_> = (0..Environment::MAX_VARIABLES).map(|i| (format!("V{i}"), String::new())).collect();
            prop_assert!(Environment::parse(most).is_ok());
        }
    }
}

// ───────────────────────────── Tags ─────────────────────────────

mod tags {
    use super::*;

    const ALLOWED: &str = "+-=._:/@ ";

    fn allowed(s: &str) -> bool {
        s.chars().all(|c| c.is_alphanumeric() || ALLOWED.contains(c))
    }

    /// Letters (any script), digits, spaces inside, `+-=._:/@`; at most `max` characters.
    fn word(max: usize) -> impl Strategy<Value = String> {
        string_of("abzAZ09éß日Ωд+-=._:/@  ", 0..max + 1)
            .prop_map(move |s| s.trim().chars().take(max).collect::<String>())
    }

    pub fn key() -> impl Strategy<Value = String> {
        word(40).prop_filter("a key", |k| !k.is_empty() && !k.to_ascii_lowercase().starts_with("aws:"))
    }

    pub fn valid() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::btree_map(key(), word(60), 0..=Tags::MAX_TAGS)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
            .prop_shuffle()
    }

    const FORBIDDEN: &str = "|<>!#$%^&*()[]{};,?\"'\\~`\0";

    fn near_miss() -> impl Strategy<Value = Vec<(String, String)>> {
        let some = || valid().prop_filter("not empty", |v| !v.is_empty());
        prop_oneof![
            (some(), padding()).prop_map(|(mut v, p)| {
                v[0].0 = p;
                v
            }),
            some().prop_map(|mut v| {
                v[0].0 = "k".repeat(129);
                v
            }),
            some().prop_map(|mut v| {
                v[0].1 = "v".repeat(257);
                v
            }),
            (some(), any::<Index>(), chars_of(FORBIDDEN)).prop_map(|(mut v, at, c)| {
                v[0].0 = insert_at(&v[0].0, at, c);
                v
            }),
            (some(), any::<Index>(), chars_of(FORBIDDEN)).prop_map(|(mut v, at, c)| {
                v[0].1 = insert_at(&v[0].1, at, c);
                v
            }),
            (some(), any::<u64>()).prop_map(|(mut v, mask)| {
                v[0].0 = format!("{}{}", random_case("aws:", mask), v[0].0);
                v
            }),
            (some(), any::<Index>(), padding()).prop_map(|(mut v, at, p)| {
                let (key, _) = v[at.index(v.len())].clone();
                v.push((format!("{p}{key}{p}"), "again".into()));
                v
            }),
            Just((0..46).map(|i| (format!("k{i}"), String::new())).collect()),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Any pairs: accepted tags obey the documented rules and are the input, trimmed,
        /// sorted by key.
        #[test]
        fn accepted_tags_obey_the_documented_rules(
            pairs in prop_oneof![
                valid(),
                prop::collection::vec(
                    (prop_oneof![9 => key(), 1 => mutated(key(), "aws:AZ09 +|")], prop_oneof![9 => word(60), 1 => mutated(word(60), "v +<\n")]),
                    0..12,
                ),
                prop::collection::vec((short_text("aws:AZ09 +|"), short_text("v +<\n")), 0..50),
            ],
        ) {
            match Tags::parse(pairs.clone()) {
                Ok(tags) => {
                    let got = tags.pairs();
                    prop_assert!(got.len() <= Tags::MAX_TAGS);
                    prop_assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no key twice");
                    for (k, v) in got {
                        prop_assert!((1..=128).contains(&k.chars().count()) && allowed(k), "key {:?}", k);
                        prop_assert!(!k.to_lowercase().starts_with("aws:"), "key {:?}", k);
                        prop_assert!(v.chars().count() <= 256 && allowed(v), "value {:?}", v);
                    }
                    let mut given: Vec<(String, String)> =
                        pairs.into_iter().map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
                    given.sort();
                    prop_assert_eq!(got, &given[..]);
                }
                Err(e) => well_formed(&e, "tags")?,
            }
        }

        #[test]
        fn generated_tags_are_accepted_trimmed_and_sorted(pairs in valid(), pad in padding()) {
            let mut sorted = pairs.clone();
            sorted.sort();
            let padded = pairs.into_iter().map(|(k, v)| (format!("{pad}{k}{pad}"), format!("{pad}{v}"))).collect::<Vec<_>>();
            let tags = Tags::parse(padded).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(tags.pairs(), &sorted[..]);
        }

        /// Keys of 128 and values of 256 characters, and 45 tags, are fine.
        #[test]
        fn the_tag_limits_themselves_are_accepted(
            key_len in prop_oneof![1usize..=128, Just(128)],
            value_len in prop_oneof![0usize..=256, Just(256)],
            c in chars_of("aZ9é日+-=._:/@"),
        ) {
            let key = format!("k{}", c.to_string().repeat(key_len - 1));
            let value = c.to_string().repeat(value_len);
            prop_assert_eq!(Tags::parse([(key.clone(), value.clone())]).map(|t| t.pairs().to_vec()), Ok(vec![(key, value)]));
            let most: Vec<_> = (0..Tags::MAX_TAGS).map(|i| (format!("k{i}"), String::new())).collect();
            prop_assert!(Tags::parse(most).is_ok());
        }

        /// A blank key, a key of 129 or a value of 257 characters, a forbidden character, an
        /// `aws:` key in any case, a key twice, 46 tags.
        #[test]
        fn near_misses_are_refused_with_the_tags_field(pairs in near_miss()) {
            refused(Tags::parse(pairs.clone()), "tags", &pairs)?;
        }
    }
}

// ───────────────────────────── Health-check paths ─────────────────────────────

mod paths {
    use super::*;

    const PUNCTUATION: &str = "-._~!$&()*+,;=:@/%?";

    fn valid() -> impl Strategy<Value = String> {
        prop_oneof![
            string_of("abzAZ09-._~!$&()*+,;=:@/%?", 0..60).prop_map(|s| format!("/{s}")),
            prop_oneof![0usize..1024, Just(1023)].prop_map(|n| format!("/{}", "h".repeat(n))),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Accepted paths are trimmed, start with `/`, have at most 1024 characters among the
        /// documented ones, never `'`; the container check's URL stays one quoted word.
        #[test]
        fn accepted_paths_are_target_group_paths(raw in around(valid, "/az09-._~!$&()*+,;=:@%?' <\"#é")) {
            match health_check_path(&raw) {
                Ok(path) => {
                    prop_assert_eq!(path.as_str(), raw.trim());
                    prop_assert!(path.starts_with('/') && path.len() <= 1024);
                    prop_assert!(path.chars().all(|c| c.is_ascii_alphanumeric() || PUNCTUATION.contains(c)), "{:?}", path);
                    for tool in [HealthCheckTool::Curl, HealthCheckTool::Wget] {
                        let command = tool.command(3838, &path);
                        prop_assert_eq!(command.matches('\'').count(), 2, "{}", command);
                    }
                }
                Err(e) => well_formed(&e, "health_check_path")?,
            }
        }

        #[test]
        fn generated_paths_are_accepted(path in valid(), before in padding(), after in padding()) {
            prop_assert_eq!(health_check_path(&format!("{before}{path}{after}")), Ok(path));
        }

        /// No leading `/`, a forbidden character (`'` among them), 1025 characters.
        #[test]
        fn near_misses_are_refused_with_the_path_field(
            raw in prop_oneof![
                valid().prop_map(|p| p[1..].to_owned()).prop_filter("no slash", |p| !p.starts_with('/')),
                (valid(), any::<Index>(), chars_of("'\"<>#[]\\^`{|}é\0ß")).prop_map(|(p, at, c)| insert_at(&p[1..], at, c)).prop_map(|p| format!("/{p}")),
                (valid().prop_filter("two characters", |p| p.len() > 1), any::<Index>(), chars_of(" \t\n")).prop_map(|(p, at, c)| insert_inside(&format!("{p}x"), at, c)),
                Just(format!("/{}", "h".repeat(1024))),
            ],
        ) {
            refused(health_check_path(&raw), "health_check_path", &raw)?;
        }
    }
}

// ───────────────────────────── ARNs: IAM roles, target groups ─────────────────────────────

mod arns {
    use super::*;

    fn partition() -> impl Strategy<Value = &'static str> {
        prop::sample::select(&["aws", "aws-cn", "aws-us-gov"][..])
    }

    /// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
    pub fn role() -> impl Strategy<Value = String> {
        (partition(), "[0-9]{12}", prop::collection::vec("[A-Za-z0-9+=,.@_-]{1,12}", 1..=4))
            .prop_map(|(p, account, name)| format!("arn:{p}:iam::{account}:role/{}", name.join("/")))
    }

    /// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`.
    pub fn target_group() -> impl Strategy<Value = String> {
        (partition(), "[a-z]{2}(-[a-z]{2,9}){1,2}-[0-9]", "[0-9]{12}", "[A-Za-z0-9-]{1,32}", "[0-9a-fA-F]{1,16}")
            .prop_map(|(p, region, account, name, id)| {
                format!("arn:{p}:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{id}")
            })
    }

    /// `raw`'s `n`th `:`-separated part replaced.
    fn replace_part(raw: &str, n: usize, part: &str) -> String {
        let mut parts: Vec<&str> = raw.splitn(6, ':').collect();
        parts[n] = part;
        parts.join(":")
    }

    const FORBIDDEN: &str = "!#$%^&*()[]{}|;'\"<>?\\`~é\0:";

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn accepted_role_arns_name_an_iam_role(raw in prop_oneof![text("arn:aws-cniu/role0129"), role(), fragments(&["arn", ":", "aws", "iam", "123456789012", "role/", "x", "/", " "], 12)]) {
            match role_arn("task_role_arn", &raw) {
                Ok(arn) => {
                    prop_assert_eq!(arn.as_str(), raw.trim());
                    prop_assert!(arn.len() <= 2048);
                    let parts: Vec<&str> = arn.splitn(6, ':').collect();
                    prop_assert_eq!(parts.len(), 6);
                    prop_assert!(["aws", "aws-cn", "aws-us-gov"].contains(&parts[1]) && parts[2] == "iam" && parts[3].is_empty());
                    prop_assert!(parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit()));
                    let name = parts[5].strip_prefix("role/").unwrap_or_default();
                    prop_assert!(name.split('/').all(|s| !s.is_empty()), "{:?}", name);
                    prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)), "{:?}", name);
                }
                Err(e) => well_formed(&e, "task_role_arn")?,
            }
        }

        #[test]
        fn generated_role_arns_are_accepted(arn in role(), before in padding(), after in padding(), full in prop::bool::weighted(0.2)) {
            // Up to 2048 characters in all.
            let arn = if full { format!("{arn}{}", "n".repeat(2048 - arn.len())) } else { arn };
            prop_assert_eq!(role_arn("execution_role_arn", &format!("{before}{arn}{after}")), Ok(arn));
        }

        /// A wrong service, partition, region or account; not a role; an empty path segment;
        /// a forbidden character; more than 2048 characters.
        #[test]
        fn role_near_misses_are_refused_with_their_field(
            raw in prop_oneof![
                role().prop_map(|a| replace_part(&a, 2, "sts")),
                (role(), prop::sample::select(&["aws-eu", "AWS", "", "azure"][..])).prop_map(|(a, p)| replace_part(&a, 1, p)),
                role().prop_map(|a| replace_part(&a, 3, "eu-west-1")),
                (role(), prop::sample::select(&["12345678901", "1234567890123", "12345678901a", ""][..])).prop_map(|(a, n)| replace_part(&a, 4, n)),
                role().prop_map(|a| a.replacen(":role/", ":user/", 1)),
                role().prop_map(|a| a.replacen(":role/", ":role//", 1)),
                role().prop_map(|a| format!("{a}/")),
                role().prop_map(|a| a.split_once("role/").map(|(head, _)| format!("{head}role/")).unwrap()),
                (role(), any::<Index>(), chars_of(FORBIDDEN)).prop_map(|(a, at, c)| {
                    let (head, name) = a.split_once("role/").unwrap();
                    format!("{head}role/{}", insert_at(name, at, c))
                }),
                role().prop_map(|a| format!("{a}{}", "n".repeat(2049 - a.len()))),
            ],
        ) {
            refused(role_arn("execution_role_arn", &raw), "execution_role_arn", &raw)?;
        }

        #[test]
        fn accepted_target_groups_are_target_group_arns(raw in prop_oneof![text("arn:aws-elsticodbng/tg09af"), target_group()]) {
            match target_group_arn(&raw) {
                Ok(arn) => {
                    prop_assert_eq!(arn.as_str(), raw.trim());
                    let parts: Vec<&str> = arn.split(':').collect();
                    prop_assert_eq!(parts.len(), 6, "{}", arn);
                    prop_assert!(parts[0] == "arn" && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1]) && parts[2] == "elasticloadbalancing");
                    prop_assert!(parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit()));
                    let resource: Vec<&str> = parts[5].split('/').collect();
                    prop_assert!(resource.len() == 3 && resource[0] == "targetgroup", "{}", arn);
                    prop_assert!((1..=32).contains(&resource[1].len()));
                    prop_assert!(!resource[2].is_empty() && resource[2].chars().all(|c| c.is_ascii_hexdigit()));
                }
                Err(e) => well_formed(&e, "target_group_arn")?,
            }
        }

        #[test]
        fn generated_target_groups_are_accepted(arn in target_group(), before in padding(), after in padding()) {
            prop_assert_eq!(target_group_arn(&format!("{before}{arn}{after}")), Ok(arn));
        }

        /// A load balancer instead of a target group, a name of 33 or a bad character, an id
        /// that is not hex, a wrong account or partition, a missing or extra segment.
        #[test]
        fn target_group_near_misses_are_refused(
            raw in prop_oneof![
                target_group().prop_map(|a| a.replacen(":targetgroup/", ":loadbalancer/app/", 1)),
                target_group().prop_map(|a| {
                    let (head, id) = a.rsplit_once('/').unwrap();
                    let (head, _) = head.rsplit_once('/').unwrap();
                    format!("{head}/{}/{id}", "n".repeat(33))
                }),
                (target_group(), chars_of("_. é:*")).prop_map(|(a, c)| a.replacen(":targetgroup/", &format!(":targetgroup/{c}"), 1)),
                (target_group(), chars_of("gxzG-_")).prop_map(|(a, c)| format!("{a}{c}")),
                target_group().prop_map(|a| a.rsplit_once('/').map(|(head, _)| format!("{head}/")).unwrap()),
                target_group().prop_map(|a| format!("{a}/0")),
                (target_group(), prop::sample::select(&["12345678901", "abcdefghijkl"][..])).prop_map(|(a, n)| replace_part(&a, 4, n)),
                (target_group(), prop::sample::select(&["aws-eu", "", "Aws"][..])).prop_map(|(a, p)| replace_part(&a, 1, p)),
                target_group().prop_map(|a| replace_part(&a, 3, "")),
                target_group().prop_map(|a| replace_part(&a, 3, "EU-WEST-1")),
            ],
        ) {
            refused(target_group_arn(&raw), "target_group_arn", &raw)?;
        }
    }
}

// ───────────────────────────── Numbers and names ─────────────────────────────

mod numbers_and_names {
    use super::*;

    fn any_i64() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -5i64..70_000,
            prop::sample::select(vec![i64::MIN, i64::MAX, 0, 65535, 65536, 100, 101])
        ]
    }

    fn one_line_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("printable", |c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
    }

    /// 1–200 characters on one line, no blank at either end.
    fn valid_name() -> impl Strategy<Value = String> {
        prop::collection::vec(one_line_char(), 1..=200)
            .prop_map(String::from_iter)
            .prop_filter("no blank at either end", |s| s.trim() == s && !s.is_empty())
    }

    proptest! {
        #![proptest_config(config())]

        /// A port is 1–65535; anything else is refused on `port`.
        #[test]
        fn ports_are_1_to_65535(raw in any_i64()) {
            let documented = (1..=65535).contains(&raw);
            match container_port(raw) {
                Ok(port) => prop_assert!(documented && i64::from(port) == raw, "{} accepted", raw),
                Err(e) => {
                    prop_assert!(!documented, "{} refused", raw);
                    well_formed(&e, "port")?;
                }
            }
        }

        /// A desired count is 0–100; anything else is refused on `desired_count`.
        #[test]
        fn desired_counts_are_0_to_100(raw in any_i64()) {
            let documented = (0..=100).contains(&raw);
            match desired_count(raw) {
                Ok(n) => prop_assert!(documented && i64::from(n) == raw, "{} accepted", raw),
                Err(e) => {
                    prop_assert!(!documented, "{} refused", raw);
                    well_formed(&e, "desired_count")?;
                }
            }
        }

        /// An accepted name is the input trimmed: 1–200 characters, no control character.
        #[test]
        fn accepted_app_names_are_trimmed_one_line_and_at_most_200_characters(raw in text("Sales dashboard é\u{2028}")) {
            match app_name(&raw) {
                Ok(name) => {
                    prop_assert_eq!(name.as_str(), raw.trim());
                    prop_assert!((1..=200).contains(&name.chars().count()));
                    prop_assert!(!name.chars().any(char::is_control), "{:?}", name);
                }
                Err(e) => well_formed(&e, "name")?,
            }
        }

        #[test]
        fn generated_app_names_are_accepted(name in valid_name(), before in padding(), after in padding(), full in prop::bool::weighted(0.2)) {
            // Up to 200 characters.
            let name = if full { format!("{name}{}", "x".repeat(200 - name.chars().count())) } else { name };
            prop_assert_eq!(app_name(&format!("{before}{name}{after}")), Ok(name));
        }

        /// Blank, 201 characters, a control character (a line break among them) inside.
        #[test]
        fn app_name_near_misses_are_refused(
            raw in prop_oneof![
                padding(),
                (valid_name(), one_line_char()).prop_map(|(n, c)| {
                    let mut n: String = n.chars().take(200).collect();
                    while n.chars().count() < 201 {
                        n.push(c);
                    }
                    format!("x{n}x")
                }),
                (valid_name(), any::<Index>(), chars_of("\0\n\r\x0b\x0c\x1b\x7f\u{85}\u{9f}")).prop_map(|(n, at, c)| format!("x{}x", insert_at(&n, at, c))),
            ],
        ) {
            refused(app_name(&raw), "name", &raw)?;
        }

        /// A display name is documented as "1–200 characters on one line": the Unicode line
        /// and paragraph separators (U+2028, U+2029, mandatory breaks for any text renderer)
        /// are refused like line breaks, though they are not control characters.
        #[test]
        fn app_names_with_a_unicode_line_separator_are_refused(
            name in valid_name().prop_filter("room for three more", |n| n.chars().count() <= 197),
            at in any::<Index>(),
            separator in chars_of("\u{2028}\u{2029}"),
        ) {
            let raw = format!("a{}z", insert_at(&name, at, separator));
            refused(app_name(&raw), "name", &raw)?;
        }
    }
}

// ───────────────────────────── Whole app definitions ─────────────────────────────

mod definition {
    use super::*;

    /// The form's fields, in form order: the order errors are reported in.
    const FORM_ORDER: [&str; 15] = [
        "slug",
        "name",
        "image",
        "cpu",
        "memory",
        "architecture",
        "port",
        "env",
        "task_role_arn",
        "execution_role_arn",
        "health_check_path",
        "health_check_tool",
        "desired_count",
        "tags",
        "target_group_arn",
    ];

    /// Blank, valid, or (weight `junk` out of 10) junk.
    fn optional(junk: u32, valid: BoxedStrategy<String>) -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            3 => Just(None),
            2 => padding().prop_map(Some),
            10 - junk => valid.prop_map(Some),
            junk => short_text("arn:aws/ x").prop_map(Some),
        ]
    }

    /// App inputs whose every field is junk with weight `junk` out of 10.
    fn input(junk: u32) -> impl Strategy<Value = AppInput> {
        let good = 10 - junk;
        let cpu_memory = prop_oneof![
            good => prop::sample::select(FargateSize::all()).prop_map(|s| (i64::from(s.cpu()), i64::from(s.memory()))),
            junk => prop_oneof![
                (any::<i64>(), any::<i64>()),
                (prop::sample::select(vec![256i64, 1024, 256 + (1 << 32)]), prop::sample::select(vec![512i64, 2048, -512, 512 + (1 << 32)])),
            ],
        ];
        let identity = (
            prop_oneof![good => (padding(), slug::valid(), padding()).prop_map(|(a, s, b)| format!("{a}{s}{b}")), junk => short_text(slug::NOISE)],
            prop_oneof![good => "[A-Z][a-z ]{0,20}[a-z]", junk => short_text("Sales \n")],
            prop_oneof![good => image::valid().prop_map(|v| v.text), junk => short_text("rocker/shiny:4")],
            cpu_memory,
            prop_oneof![good => prop::sample::select(vec!["x86_64".to_owned(), " ARM64 ".to_owned()]), junk => short_text("arm64")],
            prop_oneof![good => 1i64..=65535, junk => any::<i64>()],
        );
        let runtime = (
            prop_oneof![good => env::valid(), junk => prop::collection::vec((short_text("A_1 -"), short_text("v\n")), 0..3)],
            optional(junk, arns::role().boxed()),
            optional(junk, arns::role().boxed()),
            prop_oneof![good => prop_oneof![Just("/".to_owned()), "/[a-z?=]{0,10}".boxed()], junk => short_text("/' ")],
            optional(junk, prop_oneof![Just("curl".to_owned()), Just(" WGET ".to_owned())].boxed()),
            prop_oneof![good => 0i64..=100, junk => any::<i64>()],
            prop_oneof![good => tags::valid(), junk => prop::collection::vec((short_text("aws:k"), short_text("v<")), 0..3)],
            optional(junk, arns::target_group().boxed()),
        );
        (identity, runtime).prop_map(
            |(
                (slug, name, image, (cpu, memory), architecture, port),
                (
                    env,
                    task_role_arn,
                    execution_role_arn,
                    health_check_path,
                    health_check_tool,
                    desired_count,
                    tags,
                    target_group_arn,
                ),
            )| AppInput {
                slug,
                name,
                image,
                cpu,
                memory,
                architecture,
                port,
                env,
                task_role_arn,
                execution_role_arn,
                health_check_path,
                health_check_tool,
                desired_count,
                tags,
                target_group_arn,
            },
        )
    }

    /// The fields each validator refuses on its own, in form order.
    fn expected_errors(i: &AppInput) -> Vec<String> {
        let blank = |o: &Option<String>| o.as_deref().is_none_or(|s| s.trim().is_empty());
        let size = FargateSize::new(u32::try_from(i.cpu).unwrap_or(0), u32::try_from(i.memory).unwrap_or(0));
        let checks: Vec<Option<ValidationError>> = vec![
            AppSlug::parse(i.slug.trim()).err(),
            app_name(&i.name).err(),
            ImageRef::parse(&i.image).err(),
            size.err(),
            Architecture::parse(i.architecture.trim()).err(),
            container_port(i.port).err(),
            Environment::parse(i.env.clone()).err(),
            (!blank(&i.task_role_arn))
                .then(|| role_arn("task_role_arn", i.task_role_arn.as_deref().unwrap()).err())
                .flatten(),
            (!blank(&i.execution_role_arn))
                .then(|| role_arn("execution_role_arn", i.execution_role_arn.as_deref().unwrap()).err())
                .flatten(),
            health_check_path(&i.health_check_path).err(),
            (!blank(&i.health_check_tool))
                .then(|| health_check_tool(i.health_check_tool.as_deref().unwrap()).err())
                .flatten(),
            desired_count(i.desired_count).err(),
            Tags::parse(i.tags.clone()).err(),
            (!blank(&i.target_group_arn))
                .then(|| target_group_arn(i.target_group_arn.as_deref().unwrap()).err())
                .flatten(),
        ];
        checks.into_iter().flatten().map(|e| e.field).collect()
    }

    proptest! {
        #![proptest_config(config())]

        /// Every bad field is reported at once, once, in form order — exactly the fields whose
        /// own validator refuses; a valid definition round-trips through its input.
        #[test]
        fn every_bad_field_is_reported_once_in_form_order(input in prop_oneof![input(1), input(5)]) {
            let expected = expected_errors(&input);
            match AppDefinition::parse(&input) {
                Ok(def) => {
                    prop_assert!(expected.is_empty(), "accepted despite {:?}", expected);
                    prop_assert_eq!(AppDefinition::parse(&def.to_input()), Ok(def.clone()));
                    prop_assert_eq!(def.slug.as_str(), input.slug.trim());
                    prop_assert_eq!(def.image.to_string(), input.image.trim());
                    prop_assert_eq!((i64::from(def.size.cpu()), i64::from(def.size.memory())), (input.cpu, input.memory));
                }
                Err(errors) => {
                    let fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                    prop_assert_eq!(&fields, &expected);
                    let positions: Vec<usize> =
                        fields.iter().map(|f| FORM_ORDER.iter().position(|o| o == f).unwrap_or(usize::MAX)).collect();
                    prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{:?}", fields);
                    prop_assert!(errors.iter().all(|e| !e.message.trim().is_empty()));
                }
            }
        }
    }
}

// ───────────────────────────── Log queries and task streams ─────────────────────────────

mod logs {
    use super::*;

    const ID_CHARS: &str = "0123456789abcdef";

    /// CloudWatch log groups: 1–512 letters, digits and `_ - / . #`.
    fn documented_group(group: &str) -> bool {
        (1..=512).contains(&group.chars().count())
            && group.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
    }

    /// CloudWatch log streams: 1–512 characters without `:` or `*`.
    fn documented_stream(stream: &str) -> bool {
        (1..=512).contains(&stream.chars().count()) && !stream.contains([':', '*'])
    }

    fn group() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9_/.#-]{1,60}", prop_oneof![1usize..=512, 505usize..=512].prop_map(|n| "g".repeat(n))]
    }

    fn stream() -> impl Strategy<Value = String> {
        prop_oneof!["[^:*]{1,60}", prop_oneof![1usize..=512, 505usize..=512].prop_map(|n| "s".repeat(n))]
    }

    fn task_id() -> impl Strategy<Value = String> {
        prop_oneof![
            string_of(ID_CHARS, 32..33),
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[0-9a-f]([0-9a-f-]{0,62}[0-9a-f])?",
        ]
    }

    /// Both documented ARN formats: `…:task/CLUSTER/ID` and `…:task/ID`.
    fn task_arn() -> impl Strategy<Value = (String, String)> {
        (
            prop::sample::select(&["aws", "aws-cn", "aws-us-gov"][..]),
            "[a-z]{2}(-[a-z]{2,9}){1,2}-[0-9]",
            "[0-9]{12}",
            prop::option::of("[A-Za-z0-9_-]{1,40}"),
            task_id(),
        )
            .prop_map(|(p, region, account, cluster, id)| {
                let resource = cluster.map_or(id.clone(), |c| format!("{c}/{id}"));
                (format!("arn:{p}:ecs:{region}:{account}:task/{resource}"), id)
            })
    }

    /// `arn` with its task id (the last segment) replaced by `f(id)`.
    fn with_id(arn: &str, f: impl Fn(&str) -> String) -> String {
        let (head, id) = arn.rsplit_once('/').unwrap();
        format!("{head}/{}", f(id))
    }

    proptest! {
        #![proptest_config(config())]

        /// Any query: refused on the first bad field in documented order (group, stream,
        /// limit, filter); accepted ones keep what they were given, the filter trimmed.
        #[test]
        fn queries_are_checked_field_by_field(
            group in prop_oneof![
                4 => group(), 1 => mutated(group(), "/_-.# *:é"), 1 => text("/shinyfleet_sales-.# *:é"),
                1 => (505usize..=520).prop_map(|n| "g".repeat(n)),
            ],
            stream in prop_oneof![
                4 => stream(), 1 => mutated(stream(), ":*é"), 1 => text("shiny/0a:*é"),
                1 => (505usize..=520).prop_map(|n| "s".repeat(n)),
            ],
            limit in prop_oneof![4 => 0usize..=MAX_LIMIT + 1, 1 => prop::sample::select(vec![0, 1, MAX_LIMIT, MAX_LIMIT + 1]), 1 => any::<usize>()],
            filter in prop::option::of(prop_oneof![text("Error in ÉTÉ "), "\\PC{0,200}", (190usize..210).prop_map(|n| "é".repeat(n))]),
        ) {
            let result = LogQuery::new(&group, &stream, limit, filter.as_deref());
            // CloudWatch counts characters; a stream of up to 512 characters but more than 512
            // bytes is the next test's case.
            if stream.chars().count() <= 512 && stream.len() > 512 {
                return Ok(());
            }
            let trimmed = filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
            let first_bad = if !documented_group(&group) {
                Some("group")
            } else if !documented_stream(&stream) {
                Some("stream")
            } else if !(1..=MAX_LIMIT).contains(&limit) {
                Some("limit")
            } else if trimmed.is_some_and(|f| f.chars().count() > MAX_FILTER_CHARS) {
                Some("filter")
            } else {
                None
            };
            match (result, first_bad) {
                (Ok(q), None) => {
                    prop_assert_eq!((q.group(), q.stream(), q.limit(), q.filter()), (group.as_str(), stream.as_str(), limit, trimmed));
                    prop_assert!(q.matches(trimmed.unwrap_or_default()));
                }
                (Err(e), Some(field)) => well_formed(&e, field)?,
                (got, want) => prop_assert!(false, "got {:?}, expected a refusal of {:?}", got, want),
            }
        }

        /// A filter matches a message that contains it in any case, and only such messages
        /// (ASCII: lower-casing is then unambiguous).
        #[test]
        fn filters_match_substrings_ignoring_case(
            filter in "[A-Za-z0-9 ():'-]{1,12}",
            before in "[ -~]{0,30}", after in "\\PC{0,30}", mask in any::<u64>(), other in "[ -~]{0,40}",
        ) {
            let q = LogQuery::new("/shinyfleet/sales", "shiny/shiny/0a", 10, Some(&filter)).unwrap();
            let needle = filter.trim().to_ascii_lowercase();
            prop_assume!(!needle.is_empty());
            let message = format!("{before}{}{after}", random_case(&filter, mask));
            prop_assert!(q.matches(&message), "{:?} not found in {:?}", filter, message);
            prop_assert_eq!(q.matches(&other), other.to_ascii_lowercase().contains(&needle));
        }

        /// Log streams are documented (and named by CloudWatch) as "1–512 characters, without
        /// : or *": characters, not bytes, so 257–512 non-ASCII characters are a valid name.
        #[test]
        fn stream_names_are_limited_in_characters_not_bytes(n in 257usize..=512, c in chars_of("éß日Ω🙂")) {
            let stream = c.to_string().repeat(n);
            let q = LogQuery::new("/shinyfleet/sales", &stream, 10, None);
            prop_assert!(q.is_ok(), "{} × {:?} ({} characters): {:?}", n, c, n, q);
        }

        /// A task's stream is `shiny/shiny/<id>`, and the id is found back in it.
        #[test]
        fn task_arns_name_their_stream_and_give_their_id_back((arn, id) in task_arn()) {
            let stream = stream_for(&arn).map_err(|e| TestCaseError::fail(format!("{arn}: {e}")))?;
            prop_assert_eq!(&stream, &format!("shiny/shiny/{id}"));
            prop_assert_eq!(task_id_in_stream(&stream), Some(id.as_str()));
            let q = LogQuery::for_task("/shinyfleet/sales", &arn, 1, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(q.stream(), stream.as_str());
        }

        /// Any text: a stream is only ever built from a well-formed ARN's own id, and only a
        /// stream so built gives an id back.
        #[test]
        fn streams_are_only_built_from_task_ids(
            raw in prop_oneof![
                around(|| task_arn().prop_map(|(arn, _)| arn), "arn:ecs/task0af-A."),
                fragments(&["arn:", "aws:", "ecs:", "eu-west-1:", "123456789012:", "task/", "c/", "0a1b", "-", "/", ":", "A", ".."], 12),
            ],
            stream in prop_oneof![
                around(|| task_id().prop_map(|id| format!("shiny/shiny/{id}")), "shiny/0af-A:"),
                fragments(&["shiny", "/", "0a", "f-", "A", ":"], 8),
            ],
        ) {
            match stream_for(&raw) {
                Ok(s) => {
                    let id = raw.rsplit('/').next().unwrap_or_default();
                    prop_assert_eq!(&s, &format!("shiny/shiny/{id}"));
                    prop_assert!(raw.starts_with("arn:") && raw.contains(":ecs:") && raw.contains(":task/"));
                    prop_assert!(!id.is_empty() && id.len() <= 64 && id.chars().all(|c| ID_CHARS.contains(c) || c == '-'));
                    prop_assert_eq!(task_id_in_stream(&s), Some(id));
                }
                Err(e) => prop_assert_eq!(e, ValidationError::new("task", "must be an ECS task ARN")),
            }
            if let Some(id) = task_id_in_stream(&stream) {
                prop_assert_eq!(&stream, &format!("shiny/shiny/{id}"));
                prop_assert!(!id.is_empty() && !id.starts_with('-') && !id.ends_with('-'));
            }
        }

        /// Another service or resource, a wrong account or partition, an upper-case or
        /// non-hex id, an id with a leading hyphen, an extra segment.
        #[test]
        fn task_arn_near_misses_are_refused(
            raw in prop_oneof![
                task_arn().prop_map(|(a, _)| a.replacen(":ecs:", ":ec2:", 1)),
                task_arn().prop_map(|(a, _)| a.replacen(":task/", ":service/", 1)),
                task_arn().prop_filter("a letter in the id", |(_, id)| id.chars().any(|c| c.is_ascii_lowercase())).prop_map(|(a, _)| with_id(&a, |id| id.to_ascii_uppercase())),
                (task_arn(), chars_of("gxz_. :")).prop_map(|((a, _), c)| format!("{a}{c}")),
                task_arn().prop_map(|(a, _)| with_id(&a, |id| format!("-{id}"))),
                task_arn().prop_map(|(a, _)| format!("{a}/0a")).prop_filter("two segments already", |a| a.matches('/').count() > 2),
                task_arn().prop_map(|(a, _)| a.replacen("arn:aws", "arn:azure", 1)),
                (task_arn(), "[0-9]{11}").prop_map(|((a, _), n)| { let p: Vec<&str> = a.splitn(6, ':').collect(); format!("{}:{}:{}:{}:{n}:{}", p[0], p[1], p[2], p[3], p[5]) }),
                task_arn().prop_map(|(a, _)| with_id(&a, |_| "a".repeat(65))),
            ],
        ) {
            refused(stream_for(&raw), "task", &raw)?;
        }
    }
}

// ───────────────────────────── ECR images and task-definition revisions ─────────────────────────────

mod registry {
    use super::*;

    /// An AWS region as documented: two or more lowercase words, then a number of one or two digits.
    fn documented_region(region: &str) -> bool {
        let parts: Vec<&str> = region.split('-').collect();
        parts.len() >= 3
            && parts[..parts.len() - 1].iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
            && parts.last().is_some_and(|n| (1..=2).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()))
    }

    fn region() -> impl Strategy<Value = String> {
        "[a-z]{2,3}(-[a-z]{2,9}){1,2}-[0-9]{1,2}"
    }

    /// An ECR image and its expected parts.
    fn ecr() -> impl Strategy<Value = (String, EcrImage)> {
        (
            "[0-9]{12}",
            region(),
            prop::collection::vec(image::component(), 1..=3),
            prop_oneof![image::tag().prop_map(ImageId::Tag), image::digest().prop_map(ImageId::Digest)],
        )
            .prop_map(|(account, region, path, reference)| {
                let repository = path.join("/");
                let pin = match &reference {
                    ImageId::Tag(t) => format!(":{t}"),
                    ImageId::Digest(d) => format!("@{d}"),
                };
                let raw = format!("{account}.dkr.ecr.{region}.amazonaws.com/{repository}{pin}");
                (raw, EcrImage { account, region, repository, reference })
            })
            .prop_filter("at most 255 characters", |(raw, _)| raw.len() <= 255)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn ecr_images_are_taken_apart((raw, expected) in ecr()) {
            let image = ImageRef::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
            prop_assert!(image.is_ecr());
            let got = EcrImage::parse(&image);
            prop_assert_eq!(got.as_ref(), Some(&expected));
            let want_name = match &expected.reference {
                ImageId::Tag(t) => format!("{}:{t}", expected.repository),
                ImageId::Digest(d) => format!("{}@{d}", expected.repository),
            };
            prop_assert_eq!(got.map(|e| e.name()), Some(want_name));
        }

        /// Whatever is taken apart has the documented host, and `is_ecr` agrees.
        #[test]
        fn only_the_exact_ecr_host_is_taken_apart(
            raw in prop_oneof![
                image::valid().prop_map(|v| v.text),
                ecr().prop_map(|(raw, _)| raw),
                (ecr(), prop::sample::select(&[
                    (".dkr.ecr.", ".dkr.ecr-fips."), (".amazonaws.com/", ".amazonaws.com.cn/"), (".amazonaws.com/", ".amazonaws.com:443/"),
                    (".dkr.", ".x.dkr."), (".amazonaws.com/", ".amazonaws.com.example.org/"),
                ][..])).prop_map(|((raw, _), (from, to))| raw.replacen(from, to, 1)),
                (ecr(), prop::sample::select(&["1", "0123456789012", "12345678901a", "x.123456789012"][..]))
                    .prop_map(|((raw, e), account)| raw.replacen(&e.account, account, 1)),
                (ecr(), prop::sample::select(&["eu-west", "euwest1", "eu-west-100", "eu--1", "eu-1", "EU-west-1", "eu-west-1a"][..]))
                    .prop_map(|((raw, e), region)| raw.replacen(&format!(".{}.", e.region), &format!(".{region}."), 1)),
                fragments(&["123456789012", ".dkr", ".ecr", ".eu-west-1", ".amazonaws", ".com", "/", "sales", ":1", "-", "."], 10),
            ],
        ) {
            let Ok(image) = ImageRef::parse(&raw) else { return Ok(()) };
            if let Some(e) = EcrImage::parse(&image) {
                prop_assert!(image.is_ecr(), "{}", raw);
                prop_assert!(e.account.len() == 12 && e.account.chars().all(|c| c.is_ascii_digit()), "{:?}", e);
                prop_assert!(documented_region(&e.region), "{:?}", e);
                prop_assert_eq!(image.repository(), format!("{}.dkr.ecr.{}.amazonaws.com/{}", e.account, e.region, e.repository));
                prop_assert!(!e.repository.is_empty());
                match &e.reference {
                    ImageId::Tag(t) => prop_assert_eq!(image.tag(), Some(t.as_str())),
                    ImageId::Digest(d) => prop_assert_eq!(image.digest(), Some(d.as_str())),
                }
            }
        }

        /// The revision is the positive number after the last `:` of an ARN or `family:revision`.
        #[test]
        fn revisions_are_the_positive_number_after_the_last_colon(
            family in "[A-Za-z0-9_-]{1,20}",
            arn in prop::bool::ANY,
            revision in prop_oneof![1i64..1000, any::<i64>()],
        ) {
            let raw = if arn {
                format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:{revision}")
            } else {
                format!("{family}:{revision}")
            };
            prop_assert_eq!(revision_of(&raw), (revision > 0).then_some(revision));
        }

        #[test]
        fn any_text_gives_a_revision_only_from_its_end(
            raw in prop_oneof![
                around(|| ("[a-z-]{1,10}", 1i64..10_000).prop_map(|(f, n)| format!("{f}:{n}")), "sales:0123456789-+ "),
                fragments(&["sales", ":", "1", "0", "-", "+", "99999999999999999999", " "], 8),
            ],
        ) {
            if let Some(r) = revision_of(&raw) {
                prop_assert!(r > 0);
                prop_assert!(raw.contains(':') && raw.ends_with(&r.to_string()), "{:?} gave {}", raw, r);
            }
        }
    }
}

// ───────────────────────────── Schedule times and days (compiled everywhere) ─────────────────────────────

mod schedule_basics {
    use super::*;
    use chrono::Weekday;

    const FULL_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    const WEEK: [Weekday; 7] =
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

    /// `H:MM` or `HH:MM` from 0:00 to 23:59, or `24:00`, around blanks, as minutes.
    pub fn documented_time(raw: &str) -> Option<u16> {
        let (h, m) = raw.trim().split_once(':')?;
        let digits =
            |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit());
        if !digits(h, 1..=2) || !digits(m, 2..=2) {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        match (h, m) {
            (0..=23, 0..=59) => Some(h * 60 + m),
            (24, 0) => Some(1440),
            _ => None,
        }
    }

    /// `mon` or `monday` in any case, around blanks.
    pub fn documented_day(raw: &str) -> Option<Weekday> {
        let raw = raw.trim().to_ascii_lowercase();
        (0..7).find(|&i| raw == DAY_NAMES[i] || raw == FULL_NAMES[i]).map(|i| WEEK[i])
    }

    /// A valid time, spelt as a person might: `8:05`, `08:05`, ` 24:00 `.
    pub fn time_text() -> impl Strategy<Value = (String, u16)> {
        prop_oneof![
            (0u16..24, 0u16..60, prop::bool::ANY, padding(), padding()).prop_map(|(h, m, pad, a, b)| (
                if pad { format!("{a}{h:02}:{m:02}{b}") } else { format!("{a}{h}:{m:02}{b}") },
                h * 60 + m
            )),
            Just(("24:00".to_owned(), 1440)),
        ]
    }

    /// Any spelling of a day.
    pub fn day_text() -> impl Strategy<Value = (String, usize)> {
        (0usize..7, prop::bool::ANY, any::<u64>(), padding()).prop_map(|(i, full, mask, pad)| {
            (format!("{pad}{}{pad}", random_case(if full { FULL_NAMES[i] } else { DAY_NAMES[i] }, mask)), i)
        })
    }

    proptest! {
        #![proptest_config(config())]

        /// Any text: a time is read exactly when it is `H:MM`/`HH:MM` in range, or `24:00`.
        #[test]
        fn any_text_is_a_time_exactly_when_documented(
            raw in prop_oneof![
                around(|| time_text().prop_map(|t| t.0), "0123456789:24 +-.８"),
                fragments(&["0", "1", "2", "4", "5", "9", ":", "00", "59", "60", " ", "+", "-", "٣"], 6),
            ],
        ) {
            let got = parse_time(&raw);
            prop_assert_eq!(got, documented_time(&raw), "{:?}", raw);
            if let Some(minutes) = got {
                prop_assert_eq!(parse_time(&format_time(minutes)), Some(minutes));
            }
        }

        #[test]
        fn generated_times_are_read_as_minutes((raw, minutes) in time_text()) {
            prop_assert_eq!(parse_time(&raw), Some(minutes));
            let printed = format_time(minutes);
            prop_assert!(printed.len() == 5 && printed.as_bytes()[2] == b':', "{}", printed);
            prop_assert_eq!(parse_time(&printed), Some(minutes));
        }

        /// One-digit minutes, three-digit hours, 24:01–24:59, hours 25–99, minutes 60–99, a
        /// dot, a sign, seconds.
        #[test]
        fn time_near_misses_are_not_times(
            raw in prop_oneof![
                (0u16..24, 0u16..10).prop_map(|(h, m)| format!("{h}:{m}")),
                (0u16..24, 0u16..60).prop_map(|(h, m)| format!("0{h:02}:{m:02}")),
                (1u16..60).prop_map(|m| format!("24:{m:02}")),
                (25u16..100, 0u16..60).prop_map(|(h, m)| format!("{h}:{m:02}")),
                (0u16..24, 60u16..100).prop_map(|(h, m)| format!("{h:02}:{m}")),
                (0u16..24, 0u16..60).prop_map(|(h, m)| format!("{h:02}.{m:02}")),
                (0u16..24, 0u16..60, chars_of("+-")).prop_map(|(h, m, s)| format!("{s}{h}:{m:02}")),
                (0u16..24, 0u16..60).prop_map(|(h, m)| format!("{h:02}:{m:02}:00")),
            ],
        ) {
            prop_assert_eq!(parse_time(&raw), None, "{:?}", raw);
        }

        /// Any text: a day is read exactly when it is a day's short or full name.
        #[test]
        fn any_text_is_a_day_exactly_when_documented(
            raw in prop_oneof![text("montuewdhfrisaunMONDAY "), day_text().prop_map(|d| d.0)],
        ) {
            prop_assert_eq!(parse_day(&raw), documented_day(&raw), "{:?}", raw);
        }

        /// A list of day names is the set of those days; empty or with an unknown name it is
        /// refused with a message (naming the unknown day).
        #[test]
        fn day_lists_are_sets_of_days(
            days in prop::collection::vec(day_text(), 1..10),
            junk in prop::collection::vec(short_text("montuesx"), 0..3),
            at in any::<Index>(),
        ) {
            let names: Vec<String> = days.iter().map(|(n, _)| n.clone()).collect();
            let set = Days::parse(&names).map_err(TestCaseError::fail)?;
            let expected: Vec<String> = (0..7).filter(|i| days.iter().any(|(_, d)| d == i)).map(|i| DAY_NAMES[i].to_owned()).collect();
            prop_assert_eq!(set.names(), expected);
            prop_assert!(!set.is_empty());
            prop_assert!(!days_label(&names).is_empty());
            prop_assert!(Days::parse(&[]).is_err_and(|m| !m.is_empty()));
            let mut mixed = names;
            for j in junk.into_iter().filter(|j| documented_day(j).is_none()) {
                let i = at.index(mixed.len() + 1);
                mixed.insert(i, j.clone());
                let e = Days::parse(&mixed).unwrap_err();
                prop_assert!(e.contains(&format!("{:?}", mixed.iter().find(|n| documented_day(n).is_none()).unwrap())), "{}", e);
                prop_assert!(!days_label(&mixed).is_empty());
            }
        }
    }
}

// ───────────────────────────── Money ─────────────────────────────

mod money {
    use super::*;

    /// `-$x.yz` → micro-dollars, written out from the documentation: an optional `-`, an
    /// optional `$`, digits, and at most six decimals after a dot with digits on both sides.
    fn micros(negative: bool, whole: &str, frac: &str) -> Option<i64> {
        let value = whole.parse::<i128>().ok()? * 1_000_000 + format!("{frac:0<6}").parse::<i128>().ok()?;
        i64::try_from(if negative { -value } else { value }).ok()
    }

    /// Rounded half away from zero to `decimals` places, in micro-dollars.
    fn rounded(m: i64, decimals: u32) -> i128 {
        let unit = 10i128.pow(6 - decimals);
        let abs = i128::from(m).abs();
        let r = (abs + unit / 2) / unit * unit;
        if m < 0 {
            -r
        } else {
            r
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// Typed amounts are read exactly, or refused when they do not fit.
        #[test]
        fn typed_amounts_are_read_exactly(
            negative in prop::bool::ANY, dollar in prop::bool::ANY,
            whole in prop_oneof!["[0-9]{1,6}", "[0-9]{1,20}"], frac in prop::option::of("[0-9]{1,6}"),
            before in padding(), after in padding(),
        ) {
            let raw = format!(
                "{before}{}{}{whole}{}{after}",
                if negative { "-" } else { "" },
                if dollar { "$" } else { "" },
                frac.as_ref().map(|f| format!(".{f}")).unwrap_or_default()
            );
            let expected = micros(negative, &whole, frac.as_deref().unwrap_or(""));
            match Money::parse(&raw) {
                Ok(m) => prop_assert_eq!(Some(m.micros()), expected, "{:?}", raw),
                Err(e) => {
                    prop_assert_eq!(expected, None, "{:?} refused: {}", raw, e);
                    well_formed(&e, "amount")?;
                }
            }
        }

        /// Every amount survives its own six-decimal text, and a rounded text reads back as
        /// the rounded amount.
        #[test]
        fn amounts_round_trip_through_their_text(m in any::<i64>(), decimals in 0u32..=6) {
            prop_assert_eq!(Money::parse(&Money::from_micros(m).to_dollars_string(6)), Ok(Money::from_micros(m)));
            let text = Money::from_micros(m).to_dollars_string(decimals);
            let want = rounded(m, decimals);
            match Money::parse(&text) {
                Ok(got) => prop_assert_eq!(i128::from(got.micros()), want, "{}", text),
                Err(_) => prop_assert!(i64::try_from(want).is_err(), "{} refused", text),
            }
        }

        /// Seven decimals, a dot without digits on one side, an exponent, a comma, a plus, two
        /// signs, `$-`, a blank inside, non-ASCII digits, nothing.
        #[test]
        fn malformed_amounts_are_refused(
            raw in prop_oneof![
                ("[0-9]{1,5}", "[0-9]{7,9}").prop_map(|(w, f)| format!("{w}.{f}")),
                "[0-9]{1,5}".prop_map(|w| format!("{w}.")),
                "[0-9]{1,5}".prop_map(|f| format!(".{f}")),
                ("[0-9]{1,3}", "[0-9]{1,2}").prop_map(|(w, e)| format!("{w}e{e}")),
                ("[0-9]{1,3}", "[0-9]{1,3}").prop_map(|(w, f)| format!("{w},{f}")),
                "[0-9]{1,5}".prop_map(|w| format!("+{w}")),
                "[0-9]{1,5}".prop_map(|w| format!("--{w}")),
                "[0-9]{1,5}".prop_map(|w| format!("$-{w}")),
                ("[0-9]{1,3}", "[0-9]{1,3}").prop_map(|(a, b)| format!("{a} {b}")),
                "[٠-٩]{1,4}",
                Just(String::new()), Just("$".to_owned()), Just("-".to_owned()), Just("-$".to_owned()),
                Just("9223372036854.775808".to_owned()),
            ],
        ) {
            refused(Money::parse(&raw), "amount", &raw)?;
        }

        #[test]
        fn any_text_is_an_amount_or_refused(
            raw in prop_oneof![
                around(|| "-?\\$?[0-9]{1,14}(\\.[0-9]{1,6})?", "0123456789.$- ,e"),
                fragments(&["-", "$", "0", "9", ".", "99999999999", " ", "e"], 10),
            ],
        ) {
            match Money::parse(&raw) {
                Ok(m) => prop_assert_eq!(Money::parse(&m.to_dollars_string(6)), Ok(m)),
                Err(e) => well_formed(&e, "amount")?,
            }
        }
    }
}

// ───────────────────────────── The engines: schedules, time zones, overrides, prices ─────────────────────────────

#[cfg(feature = "engine")]
mod engine {
    use super::schedule_basics::{day_text, documented_day, documented_time, time_text};
    use super::*;
    use chrono::{DateTime, Duration, NaiveDate, Utc};
    use chrono_tz::TZ_VARIANTS;
    use domain::cost::{PriceOverrides, Prices};
    use domain::schedule::{
        ExceptionDoc, Override, OverrideDoc, Schedule, ScheduleDoc, WindowDoc, MAX_COUNT, MAX_EXCEPTIONS, MAX_WINDOWS,
    };

    fn zone_names() -> Vec<&'static str> {
        TZ_VARIANTS.iter().map(|z| z.name()).collect()
    }

    fn documented_zone(raw: &str) -> bool {
        let raw = raw.trim();
        TZ_VARIANTS.iter().any(|z| z.name() == raw)
    }

    fn zone_text() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(zone_names()).prop_map(str::to_owned),
            1 => (prop::sample::select(zone_names()), padding(), padding()).prop_map(|(z, a, b)| format!("{a}{z}{b}")),
            1 => prop::sample::select(zone_names()).prop_map(|z| z.to_lowercase()),
            1 => (prop::sample::select(zone_names()), any::<Index>(), chars_of("!#* é")).prop_map(|(z, at, c)| insert_at(z, at, c)),
            1 => text("Europe/Berlin_UTC+-0"),
        ]
    }

    // ─── Schedule documents ───

    /// A time, or with probability `p` something that is not one (junk, or `24:00` where
    /// it cannot start).
    fn time_or_junk(p: f64) -> BoxedStrategy<String> {
        pick(
            p,
            time_text().prop_map(|t| t.0),
            prop_oneof![Just("24:00".to_owned()), mutated(time_text().prop_map(|t| t.0), "0128:5 ")],
        )
    }

    fn window_doc(p: f64) -> impl Strategy<Value = WindowDoc> {
        (
            pick(
                p,
                prop::collection::vec(day_text().prop_map(|d| d.0), 1..4),
                prop::collection::vec(
                    prop_oneof![day_text().prop_map(|d| d.0), mutated(day_text().prop_map(|d| d.0), "monfriX ")],
                    0..4,
                ),
            ),
            time_or_junk(p),
            time_or_junk(p),
        )
            .prop_map(|(days, start, end)| WindowDoc { days, start, end })
    }

    fn date_text(p: f64) -> BoxedStrategy<String> {
        let near = (0u64..60)
            .prop_map(|d| (NaiveDate::from_ymd_opt(2026, 12, 20).unwrap() + chrono::Days::new(d)).to_string());
        pick(
            p,
            near.clone(),
            prop_oneof![
                (0i32..=9999, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
                mutated(near, "2026-12-4 /"),
            ],
        )
    }

    fn exception_doc(p: f64) -> impl Strategy<Value = ExceptionDoc> {
        let valid = (date_text(p), prop::bool::weighted(0.3), time_text(), time_text()).prop_map(
            |(date, off, (a, x), (b, y))| {
                let (start, end) = if x < y { (a, b) } else { (b, a) };
                ExceptionDoc { date, off, start: (!off).then_some(start), end: (!off).then_some(end) }
            },
        );
        let junk = (
            date_text(p),
            prop::bool::weighted(0.4),
            prop::option::of(time_or_junk(0.5)),
            prop::option::of(time_or_junk(0.5)),
        )
            .prop_map(|(date, off, start, end)| ExceptionDoc { date, off, start, end });
        pick(p, valid, junk)
    }

    fn count(p: f64) -> BoxedStrategy<u32> {
        let edges = prop::sample::select(vec![0, 1, MAX_COUNT]);
        pick(p, prop_oneof![0u32..=MAX_COUNT, edges], prop_oneof![Just(MAX_COUNT + 1), any::<u32>()])
    }

    /// Documents whose every field is junk with probability `p`, and an app's desired count.
    fn schedule_doc(p: f64) -> impl Strategy<Value = (ScheduleDoc, u32)> {
        (
            pick(p, prop::sample::select(zone_names()).prop_map(str::to_owned), zone_text()),
            pick(p, prop::collection::vec(window_doc(p), 0..5), prop::collection::vec(window_doc(p), 27..31)),
            prop::option::of(count(p)),
            count(p),
            (prop::collection::vec(exception_doc(p), 0..4), any::<Index>(), prop::bool::weighted(0.2)).prop_map(
                |(mut list, at, again)| {
                    // The same date twice, the second time as a valid off day.
                    if again && !list.is_empty() {
                        let twice = list[at.index(list.len())].clone();
                        list.push(ExceptionDoc { off: true, start: None, end: None, ..twice });
                    }
                    list
                },
            ),
            pick(
                p,
                prop::sample::select(vec!["enforced".to_owned(), " Transitions ".to_owned()]),
                short_text("enforcedtransit"),
            ),
            prop::bool::ANY,
            count(p),
        )
            .prop_map(|(timezone, windows, on_count, off_count, exceptions, mode, enabled, default)| {
                (ScheduleDoc { timezone, windows, on_count, off_count, exceptions, mode, enabled }, default)
            })
    }

    fn documented_date(raw: &str) -> Option<NaiveDate> {
        let raw = raw.trim();
        let shaped = raw.len() == 10
            && raw.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
        if !shaped {
            return None;
        }
        NaiveDate::from_ymd_opt(raw[..4].parse().ok()?, raw[5..7].parse().ok()?, raw[8..].parse().ok()?)
    }

    /// The fields a document's errors should name, in document order, from the module's rules.
    fn expected_fields(doc: &ScheduleDoc, default: u32) -> Vec<String> {
        let mut fields = Vec::new();
        let mut push = |f: String| fields.push(f);
        if !documented_zone(&doc.timezone) {
            push("timezone".into());
        }
        if doc.windows.len() > MAX_WINDOWS {
            push("windows".into());
        }
        for (i, w) in doc.windows.iter().enumerate() {
            let days = !w.days.is_empty() && w.days.iter().all(|d| documented_day(d).is_some());
            let start = documented_time(&w.start).filter(|m| *m < 1440);
            let end = documented_time(&w.end);
            if !days {
                push(format!("windows[{i}].days"));
            }
            if start.is_none() {
                push(format!("windows[{i}].start"));
            }
            if end.is_none() || (days && start.is_some() && start == end) {
                push(format!("windows[{i}].end"));
            }
        }
        let on_ok = match doc.on_count {
            Some(n) => (1..=MAX_COUNT).contains(&n),
            None => (1..=MAX_COUNT).contains(&default),
        };
        if !on_ok {
            push("on_count".into());
        }
        if doc.off_count > MAX_COUNT {
            push("off_count".into());
        }
        if doc.exceptions.len() > MAX_EXCEPTIONS {
            push("exceptions".into());
        }
        let mut valid_dates: Vec<NaiveDate> = Vec::new();
        for (i, e) in doc.exceptions.iter().enumerate() {
            let date = documented_date(&e.date);
            if date.is_none() {
                push(format!("exceptions[{i}].date"));
            }
            let kind_ok = if e.off {
                match (&e.start, &e.end) {
                    (None, None) => true,
                    (Some(_), _) => {
                        push(format!("exceptions[{i}].start"));
                        false
                    }
                    (None, Some(_)) => {
                        push(format!("exceptions[{i}].end"));
                        false
                    }
                }
            } else {
                let start = e.start.as_deref().and_then(documented_time).filter(|m| *m < 1440);
                let end = e.end.as_deref().and_then(documented_time);
                if start.is_none() {
                    push(format!("exceptions[{i}].start"));
                }
                if end.is_none() || (start.is_some() && end <= start) {
                    push(format!("exceptions[{i}].end"));
                }
                start.is_some() && end.is_some() && end > start
            };
            if let (Some(date), true) = (date, kind_ok) {
                if valid_dates.contains(&date) {
                    push(format!("exceptions[{i}].date"));
                }
                valid_dates.push(date);
            }
        }
        if !["enforced", "transitions"].contains(&doc.mode.trim().to_ascii_lowercase().as_str()) {
            push("mode".into());
        }
        fields
    }

    // ─── Engine smoke: every zone, odd days ───

    /// Valid windows at any minute.
    fn window() -> impl Strategy<Value = WindowDoc> {
        (1u8..128, 0u16..1440, 1u16..=1440).prop_filter("start differs from end", |(_, s, e)| s != e).prop_map(
            |(days, s, e)| WindowDoc {
                days: (0..7).filter(|i| days & 1 << i != 0).map(|i| DAY_NAMES[i].to_owned()).collect(),
                start: format_time(s),
                end: format_time(e),
            },
        )
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Instants from 1970 to 2100, or within two weeks of days some zone skipped or repeated.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        let odd = vec![
            utc("2011-12-30T00:00:00Z"), // Pacific/Apia skips 30 December
            utc("1993-08-20T00:00:00Z"), // Pacific/Kwajalein skips a day
            utc("2018-11-04T03:00:00Z"), // America/Sao_Paulo: DST at midnight
            utc("2026-03-29T01:00:00Z"), // Europe: spring forward
            utc("2026-10-25T01:00:00Z"), // Europe: fall back
            utc("2026-04-05T15:30:00Z"), // Australia/Lord_Howe: half an hour back
        ];
        prop_oneof![
            (0i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
            (prop::sample::select(odd), -14 * 86_400i64..14 * 86_400).prop_map(|(t, s)| t + Duration::seconds(s)),
        ]
    }

    fn odd_zone() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            3 => prop::sample::select(zone_names()),
            1 => prop::sample::select(&[
                "Pacific/Apia", "Pacific/Kwajalein", "America/Sao_Paulo", "Australia/Lord_Howe", "Antarctica/Troll",
                "Asia/Kathmandu", "America/Havana", "Africa/Casablanca", "Europe/Dublin", "Pacific/Chatham",
            ][..]),
        ]
    }

    // ─── Prices ───

    /// The regions documented with built-in prices.
    const KNOWN_REGIONS: [&str; 9] = [
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "eu-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
    ];

    /// A price in dollars per hour with up to 9 decimals, at most $1000, and its nano-dollars.
    fn price() -> impl Strategy<Value = (String, u64)> {
        (0u32..=9, any::<u64>(), prop::bool::ANY).prop_map(|(decimals, raw, dollar)| {
            let scale = 10u64.pow(decimals);
            let units = raw % (1000 * scale + 1);
            let nanos = units * 10u64.pow(9 - decimals);
            let text = if decimals == 0 {
                units.to_string()
            } else {
                format!("{}.{:0width$}", units / scale, units % scale, width = decimals as usize)
            };
            (if dollar { format!("${text}") } else { text }, nanos)
        })
    }

    /// Some of the four keys in any order and case, each with a price, and the expected values.
    fn overrides() -> impl Strategy<Value = (String, [Option<u64>; 4])> {
        (
            prop::collection::vec((prop::bool::ANY, price(), any::<u64>()), 4),
            Just((0..4).collect::<Vec<usize>>()).prop_shuffle(),
            padding(),
            prop::bool::ANY,
        )
            .prop_map(|(choices, order, pad, extra_commas)| {
                let mut values = [None; 4];
                let mut entries = Vec::new();
                for i in order {
                    let (given, (text, nanos), mask) = &choices[i];
                    if *given {
                        values[i] = Some(*nanos);
                        entries.push(format!(
                            "{pad}{}{pad}={pad}{text}{pad}",
                            random_case(PriceOverrides::KEYS[i], *mask)
                        ));
                    }
                }
                let sep = if extra_commas { ",, " } else { "," };
                (entries.join(sep), values)
            })
    }

    proptest! {
        #![proptest_config(config())]

        /// Any document: never a panic; exactly the fields the module's rules refuse are
        /// named, in document order, each with a message; a valid one round-trips.
        #[test]
        fn schedule_documents_name_exactly_their_bad_fields((doc, default) in prop_oneof![schedule_doc(0.3), schedule_doc(0.02)]) {
            let expected = expected_fields(&doc, default);
            let _ = doc.summary();
            match Schedule::parse(&doc, default) {
                Ok(schedule) => {
                    prop_assert!(expected.is_empty(), "accepted despite {:?}", expected);
                    prop_assert_eq!(schedule.timezone().name(), doc.timezone.trim());
                    let again = schedule.to_doc();
                    prop_assert_eq!(Schedule::parse(&again, 1), Ok(schedule.clone()));
                    prop_assert_eq!(again.windows.len(), doc.windows.len());
                    for w in &again.windows {
                        prop_assert!(w.start.len() == 5 && w.end.len() == 5, "{:?}", w);
                    }
                }
                Err(errors) => {
                    let fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                    prop_assert_eq!(fields, expected);
                    prop_assert!(errors.iter().all(|e| !e.message.trim().is_empty()));
                }
            }
        }

        /// Any text as a time zone: accepted exactly when it is an IANA name (around blanks,
        /// case-sensitive), kept as that name; refused on `timezone` otherwise.
        #[test]
        fn time_zones_are_iana_names(zone in zone_text()) {
            let doc = ScheduleDoc::from_preset(Preset::OfficeHours, &zone);
            match Schedule::parse(&doc, 1) {
                Ok(s) => {
                    prop_assert!(documented_zone(&zone), "{:?} accepted", zone);
                    prop_assert_eq!(s.timezone().name(), zone.trim());
                    prop_assert_eq!(s.to_doc().timezone, zone.trim());
                }
                Err(errors) => {
                    prop_assert!(!documented_zone(&zone), "{:?} refused: {:?}", zone, errors);
                    prop_assert_eq!(errors.len(), 1);
                    well_formed(&errors[0], "timezone")?;
                }
            }
        }

        /// Up to the limits (28 windows, 366 exceptions) is fine, one more is refused on the
        /// list's own field.
        #[test]
        fn window_and_exception_lists_have_their_documented_limits(windows in 0usize..=MAX_WINDOWS + 2, exceptions in 360usize..=MAX_EXCEPTIONS + 2) {
            let mut doc = ScheduleDoc::from_preset(Preset::OfficeHours, "UTC");
            doc.windows = vec![doc.windows[0].clone(); windows];
            let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            doc.exceptions = first
                .iter_days()
                .take(exceptions)
                .map(|d| ExceptionDoc { date: d.to_string(), off: true, start: None, end: None })
                .collect();
            let fields: Vec<String> = Schedule::parse(&doc, 1).err().unwrap_or_default().into_iter().map(|e| e.field).collect();
            let mut expected = Vec::new();
            if windows > MAX_WINDOWS {
                expected.push("windows");
            }
            if exceptions > MAX_EXCEPTIONS {
                expected.push("exceptions");
            }
            prop_assert_eq!(fields, expected);
        }

        /// Every zone, windows at any minute, exceptions around the odd days some zones had:
        /// the engine answers without panicking, with strictly increasing transitions.
        #[test]
        fn the_engine_runs_in_every_zone(
            zone in odd_zone(),
            windows in prop::collection::vec(window(), 0..4),
            from in instant(),
            exception_days in prop::collection::vec((-3i64..4, prop::bool::ANY), 0..3),
        ) {
            let mut doc = ScheduleDoc::from_preset(Preset::OfficeHours, zone);
            doc.windows = windows;
            doc.on_count = Some(2);
            let today = from.date_naive();
            doc.exceptions = exception_days
                .into_iter()
                .map(|(d, off)| (today + Duration::days(d), off))
                .map(|(date, off)| ExceptionDoc {
                    date: date.to_string(),
                    off,
                    start: (!off).then(|| "09:00".to_owned()),
                    end: (!off).then(|| "24:00".to_owned()),
                })
                .collect();
            doc.exceptions.sort_by(|a, b| a.date.cmp(&b.date));
            doc.exceptions.dedup_by(|a, b| a.date == b.date);
            let s = Schedule::parse(&doc, 1).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let transitions = s.transitions(from, 4);
            let mut previous = from;
            for t in &transitions {
                prop_assert!(t.at > previous, "{:?}", transitions);
                previous = t.at;
            }
            prop_assert!([0, 2].contains(&s.desired_at(from)));
            let pieces = s.on_intervals(from, from + Duration::days(3));
            prop_assert_eq!(pieces.first().map(|p| p.0), Some(from));
            prop_assert_eq!(pieces.last().map(|p| p.1), Some(from + Duration::days(3)));
        }

        /// An override is at most 100 tasks, until a time in the future at most 366 days ahead.
        #[test]
        fn overrides_are_checked_field_by_field(
            desired in prop_oneof![0u32..=MAX_COUNT + 1, any::<u32>()],
            ahead in prop_oneof![-10i64..10, -86_400i64..(400 * 86_400), Just(366 * 86_400), Just(366 * 86_400 + 1)],
            restore in any::<u32>(),
        ) {
            let now = utc("2026-11-30T12:00:00Z");
            let doc = OverrideDoc { desired, until: now + Duration::seconds(ahead) };
            let mut expected = Vec::new();
            if desired > MAX_COUNT {
                expected.push("desired");
            }
            if !(1..=366 * 86_400).contains(&ahead) {
                expected.push("until");
            }
            match Override::parse(&doc, restore, now) {
                Ok(o) => {
                    prop_assert!(expected.is_empty(), "accepted despite {:?}", expected);
                    prop_assert_eq!((o.desired, o.until, o.restore), (desired, doc.until, restore));
                    prop_assert_eq!(o.to_doc(), doc);
                }
                Err(errors) => {
                    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                    prop_assert_eq!(fields, expected);
                    prop_assert!(errors.iter().all(|e| !e.message.trim().is_empty()));
                }
            }
        }

        /// Generated price lists are read exactly, in any order and case, around blanks.
        #[test]
        fn price_overrides_are_read_exactly((raw, values) in overrides()) {
            let parsed = PriceOverrides::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
            prop_assert_eq!(parsed.values(), values);
            prop_assert_eq!(raw.parse::<PriceOverrides>(), Ok(parsed));
            prop_assert_eq!(parsed.is_empty(), values.iter().all(Option::is_none));
            prop_assert_eq!(parsed.is_complete(), values.iter().all(Option::is_some));
        }

        /// Ten decimals, more than $1000, a sign, an exponent, a dot without digits, an
        /// unknown key, a key twice (in any case), an entry without `=`.
        #[test]
        fn price_override_near_misses_are_refused(
            (raw, _) in overrides(),
            key in 0usize..4,
            mask in any::<u64>(),
            bad in prop_oneof![
                "[0-9]{1,3}\\.[0-9]{10,12}",
                (0u64..=999_999_999).prop_map(|n| format!("1000.{:09}", n + 1)),
                "[1-9][0-9]{4,8}(\\.[0-9]{1,3})?",
                "-[0-9]{1,3}(\\.[0-9]{1,3})?",
                "[0-9]e-?[0-9]",
                "\\.[0-9]{1,5}",
                "[0-9]{1,3}\\.",
                "",
                "\\$\\$[0-9]",
                "[0-9]{30}",
            ],
            entry in prop_oneof![
                Just(None),
                prop::sample::select(&["x86_64.vcpu", "arm64.gb", "x86.vcpu_hour", "vcpu_hour", "x86_64_vcpu_hour", "x86_64.vcpu_hour"][..]).prop_map(Some),
            ],
        ) {
            let wrong = match entry {
                None => format!("{}={bad}", random_case(PriceOverrides::KEYS[key], mask)),
                Some("x86_64.vcpu_hour") => "x86_64.vcpu_hour 0.05".to_owned(),
                Some(unknown) => format!("{unknown}=0.05"),
            };
            let list = if raw.is_empty() { wrong.clone() } else { format!("{raw},{wrong}") };
            refused(PriceOverrides::parse(&list), "price_overrides", &list)?;
            let twice = format!("{}=1,{}=2", PriceOverrides::KEYS[key], random_case(PriceOverrides::KEYS[key], mask));
            refused(PriceOverrides::parse(&twice), "price_overrides", &twice)?;
        }

        /// Any text: a price list is read or refused on `price_overrides`, never a panic;
        /// accepted prices are at most $1000.
        #[test]
        fn any_text_is_a_price_list_or_refused(
            raw in prop_oneof![
                around(|| overrides().prop_map(|o| o.0), "x86_64.vcpu_hour=0.5,arm64gb$ "),
                fragments(&["x86_64.vcpu_hour", "arm64.gb_hour", "=", ",", "0", ".", "5", "$", " ", "1000", "X86_64.GB_HOUR"], 12),
            ],
        ) {
            match PriceOverrides::parse(&raw) {
                Ok(p) => prop_assert!(p.values().iter().flatten().all(|n| *n <= 1_000_000_000_000)),
                Err(e) => well_formed(&e, "price_overrides")?,
            }
        }

        /// Built-in regions are found in any case around blanks, overrides replacing their
        /// prices; any other region needs all four prices, and its refusal names the missing.
        #[test]
        fn regions_have_built_in_prices_or_need_all_four(
            region in prop_oneof![
                (prop::sample::select(KNOWN_REGIONS.to_vec()), any::<u64>(), padding()).prop_map(|(r, mask, pad)| format!("{pad}{}{pad}", random_case(r, mask))),
                text("us-east-1 apnorth"),
            ],
            (raw, values) in overrides(),
        ) {
            let overrides = PriceOverrides::parse(&raw).unwrap();
            let normalised = region.trim().to_ascii_lowercase();
            let known = KNOWN_REGIONS.contains(&normalised.as_str());
            match Prices::resolve(&region, &overrides) {
                Ok(prices) => {
                    prop_assert!(known || overrides.is_complete(), "{:?} priced with {:?}", region, values);
                    prop_assert_eq!(&prices.region, &normalised);
                    let builtin = if known { Some(Prices::for_region(&region).unwrap()) } else { None };
                    let got = [prices.x86_64.vcpu_hour_nanos, prices.x86_64.gb_hour_nanos, prices.arm64.vcpu_hour_nanos, prices.arm64.gb_hour_nanos];
                    for (i, value) in values.iter().enumerate() {
                        let fallback = builtin.as_ref().map(|b| [b.x86_64.vcpu_hour_nanos, b.x86_64.gb_hour_nanos, b.arm64.vcpu_hour_nanos, b.arm64.gb_hour_nanos][i]);
                        prop_assert_eq!(Some(got[i]), value.or(fallback));
                    }
                }
                Err(e) => {
                    prop_assert!(!known && !overrides.is_complete(), "{:?} refused: {}", region, e);
                    well_formed(&e, "region")?;
                    for (key, value) in PriceOverrides::KEYS.iter().zip(values) {
                        if value.is_none() {
                            prop_assert!(e.message.contains(key), "{} not named in {}", key, e.message);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_documented_regions_are_the_built_in_ones() {
        assert_eq!(Prices::known_regions().collect::<Vec<_>>(), KNOWN_REGIONS);
    }
}
