//! Named time zones from the system's time-zone database (TZif files, RFC 8536).
//!
//! The compiler lowers zones to plain tables ([`ZoneRules`]) and does no I/O, so the runtime
//! reads them here: `$TZDIR` or `/usr/share/zoneinfo`, the version-2+ 64-bit section when there
//! is one. After the file's last transition the last offset stays in effect; the files that
//! distributions ship ("fat") list transitions up to 2037, and a later time is the only place
//! where a rule of the POSIX footer would matter.

use std::path::PathBuf;

use maclc_compiler::ir::ZoneRules;

/// The rules of an IANA zone (`Europe/Berlin`), or `None` when the name is not in the database.
pub fn load_zone(name: &str) -> Option<ZoneRules> {
    // Only plain zone names: no absolute paths, no `..`, nothing that escapes the database.
    let valid = !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if !valid {
        return None;
    }
    let dir = std::env::var_os("TZDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/zoneinfo"));
    let bytes = std::fs::read(dir.join(name)).ok()?;
    parse_tzif(name, &bytes)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }

    fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_be_bytes(a))
    }
}

/// Counts in a TZif header.
struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

fn header(r: &mut Reader<'_>) -> Option<Header> {
    if r.take(4)? != b"TZif" {
        return None;
    }
    let version = *r.take(1)?.first()?;
    r.take(15)?;
    let mut n = || r.u32().map(|v| v as usize);
    Some(Header {
        version,
        isutcnt: n()?,
        isstdcnt: n()?,
        leapcnt: n()?,
        timecnt: n()?,
        typecnt: n()?,
        charcnt: n()?,
    })
}

/// Parses a TZif file into a table of offsets.
pub fn parse_tzif(name: &str, bytes: &[u8]) -> Option<ZoneRules> {
    let mut r = Reader { bytes, at: 0 };
    let mut h = header(&mut r)?;
    let mut wide = false;
    if h.version >= b'2' {
        // Skip the 32-bit block; the 64-bit one follows with its own header.
        let v1 = h.timecnt * 5 + h.typecnt * 6 + h.charcnt + h.leapcnt * 8 + h.isstdcnt + h.isutcnt;
        r.take(v1)?;
        h = header(&mut r)?;
        wide = true;
    }
    let mut times = Vec::with_capacity(h.timecnt);
    for _ in 0..h.timecnt {
        times.push(if wide { r.i64()? } else { i64::from(r.i32()?) });
    }
    let indices = r.take(h.timecnt)?.to_vec();
    let mut offsets = Vec::with_capacity(h.typecnt);
    for _ in 0..h.typecnt {
        let utoff = r.i32()?;
        r.take(2)?; // is_dst, abbreviation index
        offsets.push(i64::from(utoff) * 1000);
    }
    let initial_offset_millis = *offsets.first()?;
    let mut transitions = Vec::with_capacity(h.timecnt);
    for (t, i) in times.iter().zip(&indices) {
        transitions.push((t.checked_mul(1000)?, *offsets.get(usize::from(*i))?));
    }
    Some(ZoneRules {
        name: name.to_string(),
        initial_offset_millis,
        transitions,
    })
}
