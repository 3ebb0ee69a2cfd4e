//! The compiled program file that `maclc compile` writes and `maclc run --program` reads: a
//! checked program's IR with the sources it came from, as bytes, versioned and checksummed.
//!
//! Pure functions over bytes ([`encode`], [`decode`]); the `maclc` binary does the file I/O.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! "MACLCPRG"                     8 bytes, the marker
//! format version                 u32
//! compiler version               u16 length, then UTF-8 (`0.1.0`)
//! payload length                 u64
//! payload                        postcard: content hash, sources, manifest, IR
//! checksum                       SHA-256 of every byte above
//! ```
//!
//! The marker and the format version never move, so any later maclc can say which format a
//! file is in; everything after them is read according to that version. The payload is
//! postcard (a compact binary serde format): floats are written as their 8 bytes, so a number
//! comes back bit for bit (including values JSON cannot write, such as infinities), and the same
//! value always gives the same bytes. Hash maps in the IR are written in key order and regexes
//! as their patterns (compiled again when read), so the same sources give the same file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ir::Ir;

/// The first bytes of every compiled program.
pub const MAGIC: &[u8; 8] = b"MACLCPRG";

/// The layout and payload version this compiler writes and reads. Bump it whenever the IR or
/// the payload changes shape (the `ir_encoding_guard` test fails when they do).
pub const FORMAT_VERSION: u32 = 3;

/// The version of this compiler, written into every file it compiles.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");

const CHECKSUM_LEN: usize = 32;

/// One source file of the program: its name relative to the project's folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceText {
    pub name: String,
    pub text: String,
}

/// The names in the program, for `maclc inspect` and for people (the IR itself has no names
/// for journeys and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub scores: Vec<String>,
    pub segments: Vec<String>,
    pub journeys: Vec<String>,
    pub tests: Vec<String>,
}

/// A compiled program.
#[derive(Debug, Clone)]
pub struct Artefact {
    /// The maclc that compiled it.
    pub compiler_version: String,
    /// SHA-256 of the sources ([`content_hash`]); the schema is part of the sources.
    pub content_hash: [u8; 32],
    /// Sorted by name.
    pub files: Vec<SourceText>,
    pub manifest: Manifest,
    pub ir: Ir,
}

impl Artefact {
    /// A program compiled by this compiler from `files` (sorted here, so the order they were
    /// read in does not matter).
    pub fn new(mut files: Vec<SourceText>, manifest: Manifest, ir: Ir) -> Artefact {
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Artefact {
            compiler_version: COMPILER_VERSION.to_string(),
            content_hash: content_hash(&files),
            files,
            manifest,
            ir,
        }
    }

    /// The content hash in hexadecimal, as `maclc inspect` shows it.
    pub fn content_hash_hex(&self) -> String {
        hex(&self.content_hash)
    }
}

/// SHA-256 over the name and text of every file, in the order given (each length-prefixed, so
/// moving text from one file to the next changes the hash). Names are relative to the project
/// folder: the same project checked out anywhere has the same hash.
pub fn content_hash(files: &[SourceText]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for file in files {
        for part in [file.name.as_bytes(), file.text.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    hasher.finalize().into()
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why bytes are not a compiled program this compiler can load. The messages are for people
/// who did not write maclc: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtefactError {
    /// The file does not start with the marker.
    NotAProgram,
    /// The file ends before its declared length.
    Truncated { expected: u64, found: u64 },
    /// The checksum does not match: the bytes changed after `maclc compile` wrote them.
    Damaged,
    /// A format this compiler does not read.
    UnknownFormat { found: u32 },
    /// Compiled by a newer maclc than this one.
    NewerCompiler { found: String },
    /// The checksum matches but the content cannot be read (written by an incompatible build).
    Unreadable { detail: String },
    /// The program could not be written (should not happen: every IR value is serialisable).
    Encode { detail: String },
}

impl std::fmt::Display for ArtefactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArtefactError::NotAProgram => write!(
                f,
                "this is not a compiled maclc program (make one with `maclc compile`)"
            ),
            ArtefactError::Truncated { expected, found } => write!(
                f,
                "the compiled program is cut short: it should have {expected} bytes but has \
                 {found}; copy it again or compile it again with `maclc compile`"
            ),
            ArtefactError::Damaged => write!(
                f,
                "the compiled program is damaged (its checksum does not match its content); \
                 copy it again or compile it again with `maclc compile`"
            ),
            ArtefactError::UnknownFormat { found } if *found > FORMAT_VERSION => write!(
                f,
                "the program was compiled in format {found} by a newer maclc; this maclc \
                 ({COMPILER_VERSION}) reads format {FORMAT_VERSION}: upgrade maclc, or compile \
                 the program again with this one"
            ),
            ArtefactError::UnknownFormat { found } => write!(
                f,
                "the program was compiled in format {found}, which this maclc ({COMPILER_VERSION}) \
                 no longer reads (it reads format {FORMAT_VERSION}): compile it again with \
                 `maclc compile`"
            ),
            ArtefactError::NewerCompiler { found } => write!(
                f,
                "the program was compiled by maclc {found}, newer than this maclc \
                 ({COMPILER_VERSION}): upgrade maclc, or compile the program again with this one"
            ),
            ArtefactError::Unreadable { detail } => write!(
                f,
                "the compiled program cannot be read by this maclc ({COMPILER_VERSION}): {detail}; \
                 compile it again with `maclc compile`"
            ),
            ArtefactError::Encode { detail } => {
                write!(f, "the program could not be written: {detail}")
            }
        }
    }
}

impl std::error::Error for ArtefactError {}

/// What follows the header: everything but the compiler version.
#[derive(Serialize, Deserialize)]
struct Payload {
    content_hash: [u8; 32],
    files: Vec<SourceText>,
    manifest: Manifest,
    ir: Ir,
}

/// The bytes of `artefact`: the same artefact always gives the same bytes.
pub fn encode(artefact: &Artefact) -> Result<Vec<u8>, ArtefactError> {
    let payload = Payload {
        content_hash: artefact.content_hash,
        files: artefact.files.clone(),
        manifest: artefact.manifest.clone(),
        ir: artefact.ir.clone(),
    };
    let body = postcard::to_allocvec(&payload).map_err(|e| ArtefactError::Encode {
        detail: e.to_string(),
    })?;
    let version = artefact.compiler_version.as_bytes();
    let version_len = u16::try_from(version.len()).map_err(|_| ArtefactError::Encode {
        detail: "the compiler version is too long".into(),
    })?;
    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&version_len.to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    let checksum: [u8; 32] = Sha256::digest(&out).into();
    out.extend_from_slice(&checksum);
    Ok(out)
}

/// Reads a compiled program, checking in this order: the marker, the format version, the
/// length, the checksum, the compiler version, then the content.
pub fn decode(bytes: &[u8]) -> Result<Artefact, ArtefactError> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(ArtefactError::NotAProgram);
    }
    let format = reader.u32().ok_or(truncated(bytes, 14))?;
    if format != FORMAT_VERSION {
        return Err(ArtefactError::UnknownFormat { found: format });
    }
    let version_len = reader.u16().ok_or(truncated(bytes, 14))?;
    let version = reader
        .take(usize::from(version_len))
        .ok_or(truncated(bytes, 14 + u64::from(version_len)))?;
    let body_len = reader
        .u64()
        .ok_or(truncated(bytes, 22 + u64::from(version_len)))?;
    let expected = (reader.at as u64)
        .saturating_add(body_len)
        .saturating_add(CHECKSUM_LEN as u64);
    if (bytes.len() as u64) < expected {
        return Err(truncated(bytes, expected));
    }
    if (bytes.len() as u64) > expected {
        // Extra bytes after the checksum: the file was appended to or two files were joined.
        return Err(ArtefactError::Damaged);
    }
    let body_start = reader.at;
    let body_end = body_start + body_len as usize;
    let (sealed, checksum) = bytes.split_at(body_end);
    let actual: [u8; 32] = Sha256::digest(sealed).into();
    if actual.as_slice() != checksum {
        return Err(ArtefactError::Damaged);
    }
    let version = std::str::from_utf8(version)
        .map_err(|_| ArtefactError::Unreadable {
            detail: "its compiler version is not text".into(),
        })?
        .to_string();
    if is_newer(&version, COMPILER_VERSION) {
        return Err(ArtefactError::NewerCompiler { found: version });
    }
    let body = bytes.get(body_start..body_end).unwrap_or_default();
    let payload: Payload = postcard::from_bytes(body).map_err(|e| ArtefactError::Unreadable {
        detail: format!("its content does not have the expected shape ({e})"),
    })?;
    if content_hash(&payload.files) != payload.content_hash {
        return Err(ArtefactError::Damaged);
    }
    Ok(Artefact {
        compiler_version: version,
        content_hash: payload.content_hash,
        files: payload.files,
        manifest: payload.manifest,
        ir: payload.ir,
    })
}

fn truncated(bytes: &[u8], expected: u64) -> ArtefactError {
    ArtefactError::Truncated {
        expected,
        found: bytes.len() as u64,
    }
}

/// `found` is a later version than `this` (`1.2.0` > `1.10.0` is false: numbers, not text).
/// A version that is not numbers is newer unless it is this very version.
fn is_newer(found: &str, this: &str) -> bool {
    fn parts(v: &str) -> Option<Vec<u64>> {
        let core = v.split(['-', '+']).next().unwrap_or(v);
        core.split('.').map(|p| p.parse().ok()).collect()
    }
    match (parts(found), parts(this)) {
        (Some(a), Some(b)) => a > b,
        _ => found != this,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::source::Sources;

    const PROGRAM: &str = r#"
contact {
  email: text
  country: text
}
event signed_up {
  plan: text
}
table plans key plan {
  plan: text
  points: number
  row "pro", 20
  row "team", 30
  row "business", 40
  row "enterprise", 50
}
score interest {
  +10 on signed_up where plan matches "^pro\\b"
  +0.1 on signed_up where (plans[plan].points ?? 0) > 25
}
segment keen = interest >= 10
"#;

    fn compiled() -> Artefact {
        let mut sources = Sources::new();
        sources.add("main.marketing", PROGRAM);
        let analysis = crate::analyze(&sources);
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
        let ir = crate::ir::lower(&analysis.program).unwrap();
        let files = vec![SourceText {
            name: "main.marketing".into(),
            text: PROGRAM.into(),
        }];
        Artefact::new(files, Manifest::default(), ir)
    }

    #[test]
    fn encoding_round_trips_and_is_stable() {
        let artefact = compiled();
        let bytes = encode(&artefact).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.files, artefact.files);
        assert_eq!(back.content_hash, artefact.content_hash);
        assert_eq!(back.ir.regexes.len(), artefact.ir.regexes.len());
        assert_eq!(
            back.ir.regexes[0].as_str(),
            artefact.ir.regexes[0].as_str(),
            "regexes come back as the same compiled pattern"
        );
        // Re-encoding what was read gives the same bytes (also checks hash maps are ordered).
        assert_eq!(encode(&back).unwrap(), bytes);
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        let mut artefact = compiled();
        let odd = [0.1 + 0.2, f64::INFINITY, -0.0, f64::MIN_POSITIVE, 1e308];
        for (score, value) in artefact.ir.scores.iter_mut().zip(odd.iter().cycle()) {
            score.at_most = Some(*value);
        }
        artefact.ir.scores[0].at_least = Some(f64::NEG_INFINITY);
        let back = decode(&encode(&artefact).unwrap()).unwrap();
        for (a, b) in artefact.ir.scores.iter().zip(&back.ir.scores) {
            assert_eq!(a.at_most.map(f64::to_bits), b.at_most.map(f64::to_bits));
            assert_eq!(a.at_least.map(f64::to_bits), b.at_least.map(f64::to_bits));
        }
    }

    #[test]
    fn every_damage_is_a_typed_error() {
        let bytes = encode(&compiled()).unwrap();
        assert!(matches!(decode(b"hello"), Err(ArtefactError::NotAProgram)));
        for cut in [8, 12, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(decode(&bytes[..cut]), Err(ArtefactError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x20;
        assert!(matches!(decode(&flipped), Err(ArtefactError::Damaged)));
        let mut future = bytes.clone();
        future[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(matches!(
            decode(&future),
            Err(ArtefactError::UnknownFormat { found }) if found == FORMAT_VERSION + 1
        ));
        let mut newer = compiled();
        newer.compiler_version = "999.0.0".into();
        assert!(matches!(
            decode(&encode(&newer).unwrap()),
            Err(ArtefactError::NewerCompiler { .. })
        ));
        let mut older = compiled();
        older.compiler_version = "0.0.1".into();
        assert!(decode(&encode(&older).unwrap()).is_ok());
    }

    /// Whatever happens to the bytes — cut anywhere, any one byte changed — reading them gives
    /// an error, never a panic and never a different program.
    #[test]
    fn no_prefix_and_no_changed_byte_is_accepted() {
        let bytes = encode(&compiled()).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            assert!(decode(&changed).is_err(), "byte {at} changed");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode(&longer), Err(ArtefactError::Damaged)));
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert!(is_newer("0.10.0", "0.9.3"));
        assert!(!is_newer("0.9.3", "0.10.0"));
        assert!(!is_newer("0.1.0", "0.1.0"));
        assert!(is_newer("nightly", "0.1.0"));
    }

    /// The payload's shape is part of the format: if this snapshot changes, the IR (or the
    /// payload) changed shape, and files written before cannot be read. Bump `FORMAT_VERSION`
    /// in the same change, then accept the new snapshot.
    #[test]
    fn ir_encoding_guard() {
        let bytes = encode(&compiled()).unwrap();
        let header = 8 + 4 + 2 + COMPILER_VERSION.len() + 8;
        let payload = &bytes[header..bytes.len() - CHECKSUM_LEN];
        let digest = hex(&Sha256::digest(payload));
        insta::assert_snapshot!(format!(
            "format version {FORMAT_VERSION}\npayload sha-256 {digest}\n\
             (a changed digest means the IR changed shape: bump FORMAT_VERSION)"
        ));
    }
}
