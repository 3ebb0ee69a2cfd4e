//! Identity resolution per R1 §2: alias chains, legacy ids, shared computers, early anonymous
//! records, and agreement of the streaming view with the whole-input view (and with the
//! engine's view over interned ids).

use std::collections::HashMap;

use maclc_runtime::identity::{
    resolve_all, resolve_interned, ContactId, IdKeys, IdentityNote, IdentityResolver, Interner,
    Merge, Subject,
};
use maclc_runtime::input::{decode_line, InputSchema, Record, RecordType};

const BROWSER: &str = "9b2f0c1e-0000-4000-8000-00000000000b";
const SHARED: &str = "9b2f0c1e-0000-4000-8000-00000000000c";

/// A record at minute `minute` of 2026-01-05 (so that order by time is obvious in the test).
fn at(minute: u32, kind: &str, ids: &str) -> Record {
    let body = match kind {
        "identify" => {
            r#""traits":{"email":"a@b.example","first_name":"A","country":"DE","timezone":"Europe/Berlin","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false}"#
        }
        "page" => {
            r#""name":"Pricing","properties":{"path":"/pricing","url":"https://printers.example/pricing"}"#
        }
        "track" => r#""event":"Email Opened","properties":{"campaign":"newsletter-2026-w02"}"#,
        _ => r#""note":"alias""#,
    };
    let line = format!(
        r#"{{"type":"{kind}",{ids},{body},"timestamp":"2026-01-05T10:{minute:02}:00Z","messageId":"m-{minute:02}"}}"#
    );
    decode_line(
        u64::from(minute),
        line.as_bytes(),
        &InputSchema::reference_r1(),
    )
    .expect("a valid test record")
}

fn c(id: &str) -> ContactId {
    ContactId(id.to_string())
}

fn ts(minute: u32) -> i64 {
    1_767_607_200_000 + i64::from(minute) * 60_000
}

/// Feeds records in time order; returns every observation and each record's final contact.
fn stream(
    records: &[Record],
) -> (
    Vec<maclc_runtime::identity::Observation>,
    Vec<Option<ContactId>>,
) {
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let mut resolver = IdentityResolver::new();
    let observations: Vec<_> = sorted.iter().map(|r| resolver.observe(r)).collect();
    assert_eq!(resolver.out_of_order(), 0);
    // Back to input order, following every merge since.
    let mut finals = vec![None; records.len()];
    for (record, observation) in sorted.iter().zip(&observations) {
        let index = records
            .iter()
            .position(|r| std::ptr::eq(r, *record))
            .expect("record is in the input");
        finals[index] = match resolver.current(&observation.subject) {
            Subject::Contact(contact) => Some(contact),
            Subject::Anonymous(_) => None,
        };
    }
    (observations, finals)
}

/// `resolve_interned`, the engine's view over ids as numbers, as `resolve_all` gives it: the
/// contact of each record and the alias targets.
fn interned(records: &[Record]) -> (Vec<Option<ContactId>>, HashMap<String, String>) {
    let mut names = Interner::default();
    let mut intern = |id: &Option<String>| id.as_deref().map(|s| names.intern(s));
    let ids: Vec<IdKeys> = records
        .iter()
        .map(|r| IdKeys {
            record_type: r.record_type,
            user: intern(&r.user_id),
            anonymous: intern(&r.anonymous_id),
            previous: if r.record_type == RecordType::Alias {
                intern(&r.previous_id)
            } else {
                None
            },
        })
        .collect();
    let mut claims: Vec<usize> = (0..records.len())
        .filter(|&i| {
            matches!(
                records[i].record_type,
                RecordType::Alias | RecordType::Identify
            )
        })
        .collect();
    claims.sort_by(|&a, &b| records[a].order_key().cmp(&records[b].order_key()));
    let (contact_of, targets) = resolve_interned(&ids, &claims, &mut names);
    let contact_of = contact_of
        .into_iter()
        .map(|c| c.map(|c| ContactId(names.name(c).to_string())))
        .collect();
    (contact_of, targets)
}

fn assert_views_agree(records: &[Record]) -> Vec<Option<ContactId>> {
    let whole = resolve_all(records);
    assert_eq!(
        interned(records),
        (whole.contact_of.clone(), whole.alias_targets.clone()),
        "the interned and the whole-input attributions differ"
    );
    let (_, streamed) = stream(records);
    assert_eq!(
        streamed, whole.contact_of,
        "streaming and whole-input attributions differ"
    );
    whole.contact_of
}

#[test]
fn alias_chains_are_followed_and_old_ids_are_not_contacts() {
    let records = vec![
        at(1, "track", r#""userId":"crm-0000001""#),
        at(
            2,
            "alias",
            r#""previousId":"crm-0000001","userId":"user-000001""#,
        ),
        at(3, "track", r#""userId":"user-000001""#),
        at(
            4,
            "alias",
            r#""previousId":"user-000001","userId":"user-000002""#,
        ),
        at(5, "track", r#""userId":"crm-0000001""#),
    ];
    let contacts = assert_views_agree(&records);
    assert!(contacts
        .iter()
        .all(|x| x.as_ref() == Some(&c("user-000002"))));
    assert_eq!(
        resolve_all(&records)
            .contacts
            .into_iter()
            .collect::<Vec<_>>(),
        [c("user-000002")]
    );

    let (observations, _) = stream(&records);
    assert_eq!(observations[0].subject, Subject::Contact(c("crm-0000001")));
    let merges: Vec<&Merge> = observations.iter().flat_map(|o| o.merges()).collect();
    assert_eq!(
        merges
            .iter()
            .filter(|m| matches!(m.from, Subject::Contact(_)))
            .map(|m| (&m.from, &m.into, m.at))
            .collect::<Vec<_>>(),
        [
            (
                &Subject::Contact(c("crm-0000001")),
                &c("user-000001"),
                ts(2)
            ),
            (
                &Subject::Contact(c("user-000001")),
                &c("user-000002"),
                ts(4)
            ),
        ]
    );
    // Once merged, even the oldest id lands on the end of the chain.
    assert_eq!(observations[4].subject, Subject::Contact(c("user-000002")));
}

#[test]
fn a_legacy_crm_id_moved_by_alias_takes_its_browser_along() {
    let records = vec![
        at(
            1,
            "identify",
            &format!(r#""userId":"crm-4821937","anonymousId":"{BROWSER}""#),
        ),
        at(2, "page", &format!(r#""anonymousId":"{BROWSER}""#)),
        at(
            3,
            "alias",
            r#""previousId":"crm-4821937","userId":"user-000042""#,
        ),
        at(4, "identify", r#""userId":"user-000042""#),
        at(5, "page", &format!(r#""anonymousId":"{BROWSER}""#)),
    ];
    let contacts = assert_views_agree(&records);
    assert!(contacts
        .iter()
        .all(|x| x.as_ref() == Some(&c("user-000042"))));
    let whole = resolve_all(&records);
    assert_eq!(
        whole.contacts.into_iter().collect::<Vec<_>>(),
        [c("user-000042")]
    );
    assert_eq!(
        whole.owners.get(BROWSER).map(String::as_str),
        Some("crm-4821937")
    );

    let (observations, _) = stream(&records);
    assert_eq!(observations[1].subject, Subject::Contact(c("crm-4821937")));
    assert_eq!(observations[4].subject, Subject::Contact(c("user-000042")));
    let merge = observations[2].merges().next().expect("the alias merges");
    assert_eq!(
        (&merge.from, &merge.into, merge.line),
        (&Subject::Contact(c("crm-4821937")), &c("user-000042"), 3)
    );
}

#[test]
fn on_a_shared_computer_the_earliest_claim_wins() {
    let records = vec![
        at(
            1,
            "identify",
            &format!(r#""userId":"user-000001","anonymousId":"{SHARED}""#),
        ),
        at(2, "page", &format!(r#""anonymousId":"{SHARED}""#)),
        at(
            3,
            "identify",
            &format!(r#""userId":"user-000002","anonymousId":"{SHARED}""#),
        ),
        at(
            4,
            "page",
            &format!(r#""userId":"user-000002","anonymousId":"{SHARED}""#),
        ),
        at(5, "page", &format!(r#""anonymousId":"{SHARED}""#)),
    ];
    let contacts = assert_views_agree(&records);
    let expected = [
        "user-000001",
        "user-000001",
        "user-000002",
        "user-000002",
        "user-000001",
    ];
    assert_eq!(contacts, expected.map(|id| Some(c(id))));
    let (observations, _) = stream(&records);
    assert_eq!(
        observations[2].notes,
        [IdentityNote::ClaimIgnored {
            anonymous_id: SHARED.to_string(),
            claimed_by: "user-000002".to_string(),
            owner: "user-000001".to_string(),
            line: 3
        }]
    );
    // The earliest claim in *time* wins, whatever the order of the lines.
    let mut reversed = records.clone();
    reversed.reverse();
    assert_eq!(
        resolve_all(&reversed)
            .owners
            .get(SHARED)
            .map(String::as_str),
        Some("user-000001")
    );
}

#[test]
fn anonymous_records_before_the_claim_belong_to_the_later_owner() {
    let records = vec![
        at(1, "page", &format!(r#""anonymousId":"{BROWSER}""#)),
        at(2, "page", &format!(r#""anonymousId":"{BROWSER}""#)),
        at(
            3,
            "identify",
            &format!(r#""userId":"user-000007","anonymousId":"{BROWSER}""#),
        ),
        at(4, "page", &format!(r#""anonymousId":"{BROWSER}""#)),
        at(
            5,
            "page",
            r#""anonymousId":"9b2f0c1e-0000-4000-8000-0000000000ff""#,
        ),
    ];
    let contacts = assert_views_agree(&records);
    assert_eq!(
        contacts[..4],
        [
            Some(c("user-000007")),
            Some(c("user-000007")),
            Some(c("user-000007")),
            Some(c("user-000007"))
        ]
    );
    assert_eq!(contacts[4], None, "a never-claimed visitor stays anonymous");

    let (observations, _) = stream(&records);
    // While streaming, the early visits are the visitor's, until the claim merges them.
    assert_eq!(
        observations[0].subject,
        Subject::Anonymous(BROWSER.to_string())
    );
    assert_eq!(
        observations[2].merges().collect::<Vec<_>>(),
        [&Merge {
            from: Subject::Anonymous(BROWSER.to_string()),
            into: c("user-000007"),
            at: ts(3),
            line: 3
        }]
    );
    assert_eq!(observations[3].subject, Subject::Contact(c("user-000007")));
}

#[test]
fn an_app_alias_claims_the_apps_anonymous_id() {
    let app = "9b2f0c1e-0000-4000-8000-0000000000aa";
    let records = vec![
        at(1, "page", &format!(r#""anonymousId":"{app}""#)),
        at(
            2,
            "alias",
            &format!(r#""previousId":"{app}","userId":"user-000003""#),
        ),
        at(3, "page", &format!(r#""anonymousId":"{app}""#)),
        // A later identify by someone else does not take the id away.
        at(
            4,
            "identify",
            &format!(r#""userId":"user-000004","anonymousId":"{app}""#),
        ),
        at(5, "page", &format!(r#""anonymousId":"{app}""#)),
    ];
    let contacts = assert_views_agree(&records);
    let expected = [
        "user-000003",
        "user-000003",
        "user-000003",
        "user-000004",
        "user-000003",
    ];
    assert_eq!(contacts, expected.map(|id| Some(c(id))));
}

#[test]
fn alias_loops_and_repeated_aliases_are_ignored_safely() {
    let records = vec![
        at(1, "alias", r#""previousId":"a","userId":"b""#),
        at(2, "alias", r#""previousId":"b","userId":"a""#),
        at(3, "alias", r#""previousId":"a","userId":"c""#),
        at(4, "alias", r#""previousId":"x","userId":"x""#),
        at(5, "track", r#""userId":"a""#),
        at(6, "track", r#""userId":"x""#),
    ];
    let contacts = assert_views_agree(&records);
    assert_eq!(
        contacts,
        ["b", "b", "c", "x", "b", "x"].map(|id| Some(c(id)))
    );
    let (observations, _) = stream(&records);
    assert!(matches!(
        observations[1].notes.first(),
        Some(IdentityNote::AliasLoopIgnored { .. })
    ));
    assert!(
        matches!(observations[2].notes.first(), Some(IdentityNote::AliasIgnored { target, .. }) if target == "b")
    );
}

/// A small deterministic generator (xorshift), so that no dependency is needed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn streaming_and_whole_input_agree_on_random_histories() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let users = ["crm-1", "crm-2", "user-1", "user-2", "user-3", "user-4"];
        let anons = [
            "9b2f0c1e-0000-4000-8000-0000000000a1",
            "9b2f0c1e-0000-4000-8000-0000000000a2",
            "9b2f0c1e-0000-4000-8000-0000000000a3",
        ];
        let n = 5 + rng.below(25) as u32;
        let mut records = Vec::new();
        for minute in 0..n {
            let u = users[rng.below(users.len() as u64) as usize];
            let a = anons[rng.below(anons.len() as u64) as usize];
            let record = match rng.below(6) {
                0 => at(
                    minute,
                    "identify",
                    &format!(r#""userId":"{u}","anonymousId":"{a}""#),
                ),
                1 => at(minute, "identify", &format!(r#""userId":"{u}""#)),
                2 => {
                    let previous = if rng.below(2) == 0 {
                        a
                    } else {
                        users[rng.below(users.len() as u64) as usize]
                    };
                    at(
                        minute,
                        "alias",
                        &format!(r#""previousId":"{previous}","userId":"{u}""#),
                    )
                }
                3 => at(
                    minute,
                    "page",
                    &format!(r#""userId":"{u}","anonymousId":"{a}""#),
                ),
                _ => at(minute, "page", &format!(r#""anonymousId":"{a}""#)),
            };
            records.push(record);
        }
        // Lines in a scrambled order: the whole-input view must not care.
        for i in (1..records.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            records.swap(i, j);
        }
        let whole = resolve_all(&records);
        let (_, streamed) = stream(&records);
        assert_eq!(streamed, whole.contact_of, "seed {seed}");
        assert_eq!(
            interned(&records),
            (whole.contact_of.clone(), whole.alias_targets.clone()),
            "seed {seed}: the interned view differs"
        );
        // R1 §2.4: no contact is an id merged away by an alias.
        for contact in &whole.contacts {
            assert!(
                !whole.alias_targets.contains_key(&contact.0),
                "seed {seed}: {contact} was merged away"
            );
        }
    }
}
