//! The ENVI `.hdr` text format: parsing it into an [`EnviHeader`] and writing one back.
//!
//! A header is a first line `ENVI` followed by `key = value` lines. Values in braces may span
//! lines and hold comma-separated lists. Keys are case-insensitive; lines starting with `;` are
//! comments and lines without `=` are ignored (as ENVI and Spectral Python do).

use std::fmt::Write as _;
use std::path::Path;

use crate::data::array::DType;
use crate::error::{Error, Result};

/// How the bands of an image are arranged in its data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interleave {
    /// Band sequential: every band is a whole image, `[bands][lines][samples]`.
    Bsq,
    /// Band interleaved by line: `[lines][bands][samples]`.
    Bil,
    /// Band interleaved by pixel: `[lines][samples][bands]`.
    Bip,
}

impl Interleave {
    pub fn as_str(self) -> &'static str {
        match self {
            Interleave::Bsq => "bsq",
            Interleave::Bil => "bil",
            Interleave::Bip => "bip",
        }
    }
}

/// The fields of an ENVI header that hyperssl uses. Other fields are ignored when reading.
#[derive(Debug, Clone, PartialEq)]
pub struct EnviHeader {
    /// Pixels per line (image width).
    pub samples: usize,
    /// Lines (image height).
    pub lines: usize,
    pub bands: usize,
    pub interleave: Interleave,
    pub data_type: DType,
    /// `byte order = 1`. Missing means little-endian.
    pub big_endian: bool,
    /// Bytes to skip at the start of the data file.
    pub header_offset: usize,
    /// One centre wavelength per band.
    pub wavelength: Option<Vec<f64>>,
    pub wavelength_units: Option<String>,
    /// One name per band.
    pub band_names: Option<Vec<String>>,
    pub file_type: Option<String>,
    /// Classification images: one name per class, `Unclassified` first.
    pub class_names: Option<Vec<String>>,
    /// Classification images: one colour per class.
    pub class_lookup: Option<Vec<[u8; 3]>>,
    /// Classification images: the number of classes, `Unclassified` included.
    pub classes: Option<usize>,
    pub description: Option<String>,
}

impl EnviHeader {
    /// A plain BSQ, little-endian header for an array of shape `[lines, samples, bands]`, with no
    /// optional fields.
    pub fn new(lines: usize, samples: usize, bands: usize, data_type: DType) -> Self {
        EnviHeader {
            samples,
            lines,
            bands,
            interleave: Interleave::Bsq,
            data_type,
            big_endian: false,
            header_offset: 0,
            wavelength: None,
            wavelength_units: None,
            band_names: None,
            file_type: None,
            class_names: None,
            class_lookup: None,
            classes: None,
            description: None,
        }
    }

    /// Bytes of image data the header describes (offset excluded), or `None` on overflow.
    pub fn data_bytes(&self) -> Option<usize> {
        self.lines
            .checked_mul(self.samples)?
            .checked_mul(self.bands)?
            .checked_mul(dtype_size(self.data_type))
    }
}

/// ENVI's numeric code for an element type; `None` for types ENVI cannot store (int8).
pub fn envi_code(dtype: DType) -> Option<u8> {
    match dtype {
        DType::U8 => Some(1),
        DType::I16 => Some(2),
        DType::I32 => Some(3),
        DType::F32 => Some(4),
        DType::F64 => Some(5),
        DType::U16 => Some(12),
        DType::U32 => Some(13),
        DType::I64 => Some(14),
        DType::U64 => Some(15),
        DType::I8 => None,
    }
}

fn dtype_from_code(code: &str, path: &Path) -> Result<DType> {
    let dtype = match code {
        "1" => DType::U8,
        "2" => DType::I16,
        "3" => DType::I32,
        "4" => DType::F32,
        "5" => DType::F64,
        "12" => DType::U16,
        "13" => DType::U32,
        "14" => DType::I64,
        "15" => DType::U64,
        "6" | "9" => {
            return Err(Error::bad(
                path,
                format!("complex data (ENVI data type {code}) is not supported"),
            ))
        }
        _ => return Err(Error::bad(path, format!("unknown ENVI data type '{code}'"))),
    };
    Ok(dtype)
}

/// Bytes per element.
pub fn dtype_size(dtype: DType) -> usize {
    match dtype {
        DType::U8 | DType::I8 => 1,
        DType::U16 | DType::I16 => 2,
        DType::U32 | DType::I32 | DType::F32 => 4,
        DType::U64 | DType::I64 | DType::F64 => 8,
    }
}

/// One `key = value` entry; `braced` values keep the text between the braces.
struct Entry {
    key: String,
    value: String,
    braced: bool,
}

/// Splits the header text into entries. `path` names the header file in errors.
fn entries(text: &str, path: &Path) -> Result<Vec<Entry>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    if !first.starts_with("ENVI") {
        return Err(Error::bad(
            path,
            "not an ENVI header (the first line is not 'ENVI')",
        ));
    }
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        // Keys are case-insensitive and may have runs of spaces ("data  type").
        let key = key
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let value = value.trim();
        let Some(opened) = value.strip_prefix('{') else {
            out.push(Entry {
                key,
                value: value.to_string(),
                braced: false,
            });
            continue;
        };
        // Gather lines until the closing brace.
        let mut body = opened.to_string();
        while !body.contains('}') {
            let Some(next) = lines.next() else {
                return Err(Error::bad(
                    path,
                    format!("field '{key}': '{{' is never closed"),
                ));
            };
            let next = next.trim();
            if next.starts_with(';') {
                continue;
            }
            body.push('\n');
            body.push_str(next);
        }
        let (inside, after) = body.split_once('}').unwrap_or((&body, ""));
        if !after.trim().is_empty() {
            return Err(Error::bad(
                path,
                format!(
                    "field '{key}': unexpected text after '}}': '{}'",
                    after.trim()
                ),
            ));
        }
        out.push(Entry {
            key,
            value: inside.trim().to_string(),
            braced: true,
        });
    }
    Ok(out)
}

/// Looks fields up by name and turns their text into values, naming the field in errors.
struct Fields<'a> {
    entries: Vec<Entry>,
    path: &'a Path,
}

impl<'a> Fields<'a> {
    /// The raw text of a field; a field given twice is an error, since one of them must lie.
    fn get(&self, key: &str) -> Result<Option<&Entry>> {
        let mut found = self.entries.iter().filter(|e| e.key == key);
        let first = found.next();
        if found.next().is_some() {
            return Err(Error::bad(
                self.path,
                format!("field '{key}' is given more than once"),
            ));
        }
        Ok(first)
    }

    fn required(&self, key: &str) -> Result<&Entry> {
        self.get(key)?
            .ok_or_else(|| Error::bad(self.path, format!("required field '{key}' is missing")))
    }

    fn number(&self, key: &str, text: &str) -> Result<usize> {
        text.trim().parse::<usize>().map_err(|_| {
            Error::bad(
                self.path,
                format!("field '{key}' is not a whole number: '{}'", text.trim()),
            )
        })
    }

    fn required_count(&self, key: &str) -> Result<usize> {
        let n = self.number(key, &self.required(key)?.value)?;
        if n == 0 {
            return Err(Error::bad(self.path, format!("field '{key}' is 0")));
        }
        Ok(n)
    }

    fn optional_number(&self, key: &str) -> Result<Option<usize>> {
        self.get(key)?
            .map(|e| self.number(key, &e.value))
            .transpose()
    }

    fn text(&self, key: &str) -> Result<Option<String>> {
        Ok(self.get(key)?.map(|e| e.value.clone()))
    }

    /// A comma-separated list; an unbraced value is a list of one. A trailing comma is allowed.
    fn list(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(entry) = self.get(key)? else {
            return Ok(None);
        };
        if !entry.braced {
            return Ok(Some(vec![entry.value.clone()]));
        }
        if entry.value.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut items: Vec<String> = entry
            .value
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        if items.len() > 1 && items.last().is_some_and(|s| s.is_empty()) {
            items.pop();
        }
        Ok(Some(items))
    }

    fn numbers<T: std::str::FromStr>(&self, key: &str) -> Result<Option<Vec<T>>> {
        let Some(items) = self.list(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse::<T>().map_err(|_| {
                    Error::bad(
                        self.path,
                        format!("field '{key}': item {} is not valid: '{s}'", i + 1),
                    )
                })
            })
            .collect::<Result<Vec<T>>>()
            .map(Some)
    }

    /// Checks that a per-band or per-class list has one item per band or class.
    fn check_len<T>(&self, key: &str, list: &Option<Vec<T>>, want: usize, per: &str) -> Result<()> {
        match list {
            Some(v) if v.len() != want => Err(Error::bad(
                self.path,
                format!(
                    "field '{key}' has {} items, expected one per {per} ({want})",
                    v.len()
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// Parses the text of an ENVI header. `path` is the header file, named in every error.
///
/// Required: `samples`, `lines`, `bands`, `data type`. Defaults: `interleave = bsq`,
/// `byte order = 0`, `header offset = 0`. Per-band lists must have one item per band and
/// class lists one item per class.
pub fn parse_header(text: &str, path: &Path) -> Result<EnviHeader> {
    let f = Fields {
        entries: entries(text, path)?,
        path,
    };

    let samples = f.required_count("samples")?;
    let lines = f.required_count("lines")?;
    let bands = f.required_count("bands")?;
    let data_type = dtype_from_code(f.required("data type")?.value.trim(), path)?;

    let interleave = match f.get("interleave")?.map(|e| e.value.trim().to_lowercase()) {
        None => Interleave::Bsq,
        Some(s) => match s.as_str() {
            "bsq" => Interleave::Bsq,
            "bil" => Interleave::Bil,
            "bip" => Interleave::Bip,
            _ => {
                return Err(Error::bad(
                    path,
                    format!("field 'interleave' is '{s}', expected bsq, bil or bip"),
                ))
            }
        },
    };
    let big_endian = match f.get("byte order")?.map(|e| e.value.trim()) {
        None | Some("0") => false,
        Some("1") => true,
        Some(s) => {
            return Err(Error::bad(
                path,
                format!("field 'byte order' is '{s}', expected 0 or 1"),
            ))
        }
    };
    let header_offset = f.optional_number("header offset")?.unwrap_or(0);

    let wavelength: Option<Vec<f64>> = f.numbers("wavelength")?;
    if let Some(w) = &wavelength {
        if let Some(i) = w.iter().position(|x| !x.is_finite()) {
            return Err(Error::bad(
                path,
                format!("field 'wavelength': item {} is {}", i + 1, w[i]),
            ));
        }
    }
    f.check_len("wavelength", &wavelength, bands, "band")?;
    let band_names = f.list("band names")?;
    f.check_len("band names", &band_names, bands, "band")?;

    let classes = f.optional_number("classes")?;
    let class_names = f.list("class names")?;
    let class_lookup = match f.numbers::<u8>("class lookup")? {
        None => None,
        Some(v) if v.len() % 3 != 0 => {
            return Err(Error::bad(
                path,
                format!(
                    "field 'class lookup' has {} values, not a multiple of 3 (r, g, b)",
                    v.len()
                ),
            ))
        }
        Some(v) => Some(
            v.chunks_exact(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect::<Vec<_>>(),
        ),
    };
    if let Some(n) = classes {
        f.check_len("class names", &class_names, n, "class")?;
        f.check_len("class lookup", &class_lookup, n, "class")?;
    }

    Ok(EnviHeader {
        samples,
        lines,
        bands,
        interleave,
        data_type,
        big_endian,
        header_offset,
        wavelength,
        wavelength_units: f.text("wavelength units")?,
        band_names,
        file_type: f.text("file type")?,
        class_names,
        class_lookup,
        classes,
        description: f.text("description")?,
    })
}

/// Checks that `header_text(h)` would parse back to `h`: a valid data type, sizes of at least 1,
/// list lengths that fit, and no text that would break the `{ ..., ... }` syntax.
pub fn check_writable(h: &EnviHeader) -> std::result::Result<(), String> {
    if envi_code(h.data_type).is_none() {
        return Err(format!("ENVI cannot store {} data", h.data_type));
    }
    if h.samples == 0 || h.lines == 0 || h.bands == 0 {
        return Err(format!(
            "samples, lines and bands must be at least 1 (got {}, {}, {})",
            h.samples, h.lines, h.bands
        ));
    }
    let per_band = |name: &str, len: Option<usize>| match len {
        Some(n) if n != h.bands => Err(format!("{name} has {n} items for {} bands", h.bands)),
        _ => Ok(()),
    };
    per_band("wavelength", h.wavelength.as_ref().map(Vec::len))?;
    per_band("band names", h.band_names.as_ref().map(Vec::len))?;
    if let Some(w) = &h.wavelength {
        if w.iter().any(|x| !x.is_finite()) {
            return Err("wavelength holds a value that is not finite".into());
        }
    }
    if let Some(n) = h.classes {
        let per_class = |name: &str, len: Option<usize>| match len {
            Some(k) if k != n => Err(format!("{name} has {k} items for {n} classes")),
            _ => Ok(()),
        };
        per_class("class names", h.class_names.as_ref().map(Vec::len))?;
        per_class("class lookup", h.class_lookup.as_ref().map(Vec::len))?;
    }
    // Free text must not close a brace early, and list items must not split or be empty
    // (an empty last item would be read as a trailing comma). The reader trims lines and skips
    // lines starting with ';' inside braces, so a description's lines must survive that.
    let bad_text = |s: &str| s.contains(['{', '}', '\r']) || s.trim() != s;
    let bad_item = |s: &str| bad_text(s) || s.is_empty() || s.contains([',', '\n']);
    if let Some(d) = &h.description {
        if bad_text(d)
            || d.lines().any(|l| l.trim() != l)
            || d.lines().skip(1).any(|l| l.starts_with(';'))
        {
            return Err(format!(
                "description '{d}' cannot be written in an ENVI header"
            ));
        }
    }
    for (name, value) in [
        ("file type", &h.file_type),
        ("wavelength units", &h.wavelength_units),
    ] {
        if let Some(s) = value.as_deref().filter(|s| bad_text(s) || s.contains('\n')) {
            return Err(format!("{name} '{s}' cannot be written in an ENVI header"));
        }
    }
    for (name, list) in [
        ("band names", &h.band_names),
        ("class names", &h.class_names),
    ] {
        if let Some(s) = list.iter().flatten().find(|s| bad_item(s)) {
            return Err(format!(
                "{name} item '{s}' cannot be written in an ENVI header"
            ));
        }
    }
    Ok(())
}

fn brace_list<T: std::fmt::Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(|x| x.to_string()).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The header as ENVI text; optional fields are written only when set. Use [`check_writable`]
/// first: text holding braces or commas cannot be represented.
pub fn header_text(h: &EnviHeader) -> String {
    let mut s = String::from("ENVI\n");
    // Writing to a String cannot fail.
    let mut line = |key: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(s, "{key} = {value}");
    };
    if let Some(d) = &h.description {
        line("description", &format!("{{{d}}}"));
    }
    line("samples", &h.samples);
    line("lines", &h.lines);
    line("bands", &h.bands);
    line("header offset", &h.header_offset);
    if let Some(t) = &h.file_type {
        line("file type", t);
    }
    // Types without a code are refused by check_writable; 0 would be rejected on reading.
    line("data type", &envi_code(h.data_type).unwrap_or(0));
    line("interleave", &h.interleave.as_str());
    line("byte order", &u8::from(h.big_endian));
    if let Some(n) = h.classes {
        line("classes", &n);
    }
    if let Some(names) = &h.class_names {
        line("class names", &brace_list(names));
    }
    if let Some(lookup) = &h.class_lookup {
        line("class lookup", &brace_list(&lookup.concat()));
    }
    if let Some(u) = &h.wavelength_units {
        line("wavelength units", u);
    }
    if let Some(w) = &h.wavelength {
        line("wavelength", &brace_list(w));
    }
    if let Some(names) = &h.band_names {
        line("band names", &brace_list(names));
    }
    s
}
