//! No input makes the decoder panic: thousands of mutated lines, each decoded on its own and
//! all of them as one stream, with the counts adding up.

use maclc_runtime::input::{decode_line, decode_lines, InputSchema};

const LINES: [&str; 4] = [
    r#"{"type":"identify","userId":"user-000042","anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","traits":{"email":"jose@acme.example","first_name":"Łukasz","company":{"id":"acc-00012","name":"Acme"},"company_size":1200,"country":"ES","timezone":"Europe/Madrid","birthday":"1988-02-29","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false},"timestamp":"2026-01-05T09:31:12.345Z","messageId":"m-1"}"#,
    r#"{"type":"track","event":"Order Completed","userId":"user-000042","properties":{"order_id":"ord-0000001","cart_id":"cart-0123456789","revenue":1.25e2},"timestamp":"2026-01-05T10:31:12.345+01:00","messageId":"m-2"}"#,
    r#"{"type":"page","name":"Support – Warranty","anonymousId":"9b2f","properties":{"path":"/support/warranty","url":"https://printers.example/support/warranty?utm_source=email"},"timestamp":"2026-01-05T09:40:00.000Z","messageId":"m-3"}"#,
    r#"{"type":"alias","previousId":"crm-4821937","userId":"user-000042","timestamp":"2026-01-05T09:31:12Z","messageId":"m-4","x":[1,{"y":"\u00e9\ud83d\ude00"}]}"#,
];

const INTERESTING: &[u8] =
    b"{}[],:\"\\ \t\r0123456789.-+eEtfnulZT\x00\x7f\xc3\xa9\xe2\x80\x93\xff\xfe";

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn mutate(line: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = line.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if at < out.len() => out[at] = INTERESTING[rng.below(INTERESTING.len())],
            1 if at < out.len() => {
                out.remove(at);
            }
            2 => out.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 => out.truncate(at),
            _ => {
                let end = (at + rng.below(20)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
        }
    }
    out.retain(|&b| b != b'\n');
    out
}

#[test]
fn mutated_lines_never_panic_and_are_all_counted() {
    let schema = InputSchema::reference_r1();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut stream = Vec::new();
    let mut n = 0u64;
    for base in LINES {
        assert!(
            decode_line(1, base.as_bytes(), &schema).is_ok(),
            "base line is valid: {base}"
        );
        for _ in 0..5_000 {
            let line = mutate(base.as_bytes(), &mut rng);
            n += 1;
            let outcome = decode_line(n, &line, &schema);
            match &outcome {
                Ok(record) => assert_eq!(record.line, n),
                Err(reject) => {
                    assert_eq!((reject.line, reject.raw.as_slice()), (n, line.as_slice()));
                    assert!(!reject.detail.is_empty());
                }
            }
            stream.extend_from_slice(&line);
            stream.push(b'\n');
        }
    }
    let mut lines = decode_lines(stream.as_slice(), &schema);
    let count = lines.by_ref().count() as u64;
    let summary = lines.summary();
    assert_eq!((count, summary.lines_read), (n, n));
    assert_eq!(summary.valid + summary.rejected_total(), n);
    assert!(summary.valid > 0 && summary.rejected_total() > 0);
}
