//! A body read in place in the chunks hyper delivered must classify exactly
//! as the same body in one slice, wherever the chunk boundaries fall: every
//! fixture of `shared/fixtures/bookinfo` is cut at every offset into two
//! chunks, at many offsets into three with a short middle chunk (so a marker
//! can span all three), and into eight at seeded random offsets; each
//! reading must equal the whole body's, which must read as the manifest says.

mod classify_support;

use meshdrill::classify::{Classifier, ClassifyConfig, Hay, MAX_PARTS, Reading};

use classify_support::{Fixture, fixtures, mismatches};

/// Middle chunk lengths for the three-way cuts: 1 byte up to longer than
/// any marker.
const MIDDLES: [usize; 9] = [1, 2, 3, 5, 8, 17, 34, 70, 101];

fn reading(c: &mut Classifier, f: &Fixture, hay: &Hay<'_>) -> Reading {
    let (kind, page) = c.classify_parts(f.status, &f.header_map(), hay);
    Reading::new(f.file.clone(), kind, &page, c)
}

/// A fixed xorshift, so a failure names cuts that can be replayed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn chunked_bodies_read_as_the_whole_body_wherever_they_are_cut() {
    let fixtures = fixtures();
    let mut c = Classifier::new(&ClassifyConfig::default());
    let mut cases = 0usize;
    for f in &fixtures {
        let whole = reading(&mut c, f, &Hay::whole(&f.body));
        let actual = serde_json::to_value(&whole).expect("reading serializes");
        let problems = mismatches(&f.file, &f.expected, &actual);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let body = &f.body[..];
        let n = body.len();
        for a in 0..=n {
            let parts = [&body[..a], &body[a..]];
            let got = reading(&mut c, f, &Hay::parts(&parts).unwrap());
            assert_eq!(got, whole, "{} cut at {a}", f.file);
            cases += 1;
        }
        for a in (0..n).step_by(13) {
            for m in MIDDLES {
                let b = (a + m).min(n);
                let parts = [&body[..a], &body[a..b], &body[b..]];
                let got = reading(&mut c, f, &Hay::parts(&parts).unwrap());
                assert_eq!(got, whole, "{} cut at {a} and {b}", f.file);
                cases += 1;
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15 ^ n as u64;
        for _ in 0..200 {
            let mut cuts: Vec<usize> = (0..MAX_PARTS - 1)
                .map(|_| (next(&mut seed) % (n as u64 + 1)) as usize)
                .collect();
            cuts.sort_unstable();
            let mut parts = Vec::with_capacity(MAX_PARTS);
            let mut at = 0;
            for cut in cuts {
                parts.push(&body[at..cut]);
                at = cut;
            }
            parts.push(&body[at..]);
            let got = reading(&mut c, f, &Hay::parts(&parts).unwrap());
            assert_eq!(got, whole, "{} cut into {parts:?}", f.file);
            cases += 1;
        }
    }
    assert!(cases > fixtures.len() * 1000, "{cases} cases");
}

/// Envoy's local replies are short and judged as a whole: in pieces they
/// are stitched on the stack (at most 1 KiB), and read the same.
#[test]
fn a_local_reply_in_pieces_reads_as_one() {
    let mut c = Classifier::new(&ClassifyConfig::default());
    for f in fixtures().iter().filter(|f| f.status >= 400) {
        let whole = reading(&mut c, f, &Hay::whole(&f.body));
        for a in 0..=f.body.len() {
            let parts = [&f.body[..a], &f.body[a..]];
            assert_eq!(
                reading(&mut c, f, &Hay::parts(&parts).unwrap()),
                whole,
                "{} at {a}",
                f.file
            );
        }
    }
}
