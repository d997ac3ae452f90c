//! Mapping fields from Ivanti's `$metadata` (EDMX): the `incident`
//! entity's properties, without the key and the `*_Valid` twins.

use crate::wit::MappingField;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

const EDM_NS: &[u8] = b"http://docs.oasis-open.org/odata/ns/edm";
/// Properties nested deeper than this are not part of any sane EDMX.
const MAX_DEPTH: usize = 64;
/// An incident has a few hundred properties; a document claiming more than
/// this (each costs the component about 60 bytes, a 16 MiB one would take
/// it past its memory cap) is refused.
pub const MAX_PROPERTIES: usize = 10_000;

/// Fields Ivanti sets itself: mappable on create is harmless, but
/// setting them again on a recurring alert is not.
const NOT_UPDATABLE: &[&str] = &[
    "IncidentNumber",
    "CreatedBy",
    "CreatedDateTime",
    "CreatedByType",
    "LastModBy",
    "LastModDateTime",
    "ClosedBy",
    "ClosedDateTime",
    "ClosedDuration",
    "ResolvedBy",
    "ResolvedDateTime",
    "SocialTextHeader",
    "IsNewRecord",
    "ReadOnly",
    "ProfileFullName",
    "ProfileLink",
    "ProfileLink_RecID",
    "ProfileLink_Category",
];

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .unescape_value()
                .map_err(|err| format!("bad attribute value: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// The EDM namespace an unprefixed element is in: the nearest Schema's
/// default namespace. (A namespace-resolving reader refuses Ivanti's
/// stray closing tags, so the one scope that matters is tracked here.)
fn default_ns(e: &BytesStart<'_>) -> Result<Option<Vec<u8>>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.as_ref() == b"xmlns" {
            return Ok(Some(a.value.into_owned()));
        }
    }
    Ok(None)
}

/// Splits `ActualCategory` into `Actual Category` for a label.
fn label(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if c == '_' {
            out.push(' ');
        } else {
            if c.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase()) {
                out.push(' ');
            }
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// What the reading has found so far, and where it is.
#[derive(Default)]
struct Reading {
    depth: usize,
    /// The depth of the EDM Schema element being read, if any.
    edm_schema: Option<usize>,
    /// The depth of the incident's EntityType while inside it.
    incident_depth: Option<usize>,
    seen_incident: bool,
    keys: Vec<String>,
    /// Name, type and MaxLength of each Property, in document order.
    props: Vec<(String, String, Option<u32>)>,
}

impl Reading {
    /// A start tag, or an empty element's tag.
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        let local = e.local_name();
        let unprefixed = e.name().prefix().is_none();
        if local.as_ref() == b"Schema" && unprefixed && self.edm_schema.is_none() && !empty {
            if default_ns(e)?.as_deref() == Some(EDM_NS) {
                self.edm_schema = Some(self.depth);
            }
        } else if self.edm_schema.is_some() && unprefixed {
            match local.as_ref() {
                b"EntityType"
                    if self.incident_depth.is_none()
                        && attr(e, b"Name")?.as_deref() == Some("incident")
                        && !empty =>
                {
                    self.incident_depth = Some(self.depth);
                    self.seen_incident = true;
                }
                b"PropertyRef" if self.incident_depth.is_some() => {
                    if let Some(n) = attr(e, b"Name")? {
                        self.keys.push(n);
                    }
                }
                b"Property" if self.incident_depth.is_some() => {
                    let name = attr(e, b"Name")?.ok_or("a Property has no Name")?;
                    let ty = attr(e, b"Type")?.unwrap_or_else(|| "Edm.String".into());
                    let max = attr(e, b"MaxLength")?.and_then(|m| m.parse::<u32>().ok());
                    self.props.push((name, ty, max));
                }
                _ => {}
            }
        }
        if self.keys.len() + self.props.len() > MAX_PROPERTIES {
            return Err(format!(
                "the incident has more than {MAX_PROPERTIES} properties"
            ));
        }
        if !empty {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(format!("nested deeper than {MAX_DEPTH} elements"));
            }
        }
        Ok(())
    }

    /// An end tag (names unchecked: Ivanti's samples have stray ones).
    fn close(&mut self, local: &[u8]) {
        self.depth = self.depth.saturating_sub(1);
        if local == b"EntityType" && self.incident_depth.is_some_and(|d| d >= self.depth) {
            self.incident_depth = None;
        }
        if local == b"Schema" && self.edm_schema.is_some_and(|d| d >= self.depth) {
            self.edm_schema = None;
        }
    }

    /// The incident's mapping fields: neither its key nor `*_Valid` twins.
    fn fields(self) -> Vec<MappingField> {
        // A plain scan: only `*_Valid` names look anything up, and a set
        // (hashing or sorting) would cost the component more than it saves.
        let is_property = |name: &str| self.props.iter().any(|(n, _, _)| n == name);
        self.props
            .iter()
            .filter(|(name, _, _)| !self.keys.contains(name))
            .filter(|(name, _, _)| {
                // `X_Valid` is the id twin of validated field `X`: not mappable.
                !name.strip_suffix("_Valid").is_some_and(is_property)
            })
            .map(|(name, ty, max)| MappingField {
                name: name.clone(),
                label: label(name),
                value_type: ty.clone(),
                max_length: *max,
                updatable: !NOT_UPDATABLE.contains(&name.as_str()),
            })
            .collect()
    }
}

/// Parses the EDMX and returns the incident's mapping fields in document order.
pub fn parse(xml: &[u8]) -> Result<Vec<MappingField>, String> {
    // Ivanti writes UTF-8 (and quick-xml reads only that); other bytes,
    // even where no field is read, mean this is not the document asked for.
    if let Err(e) = std::str::from_utf8(xml) {
        return Err(format!(
            "not UTF-8 text (invalid byte at {})",
            e.valid_up_to()
        ));
    }
    // Nor does XML allow control characters other than tab and line ends.
    if let Some(at) = xml
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err(format!("not XML (control character at byte {at})"));
    }
    let mut reader = Reader::from_reader(xml);
    // Ivanti's samples are not always well formed (stray closing tags):
    // only the incident's Property elements matter, so be lenient.
    reader.config_mut().check_end_names = false;
    reader.config_mut().trim_text(true);
    let mut reading = Reading::default();
    loop {
        match reader.read_event() {
            Ok(Event::Start(ref e)) => reading.open(e, false)?,
            Ok(Event::Empty(ref e)) => reading.open(e, true)?,
            Ok(Event::End(ref e)) => reading.close(e.local_name().as_ref()),
            Ok(Event::DocType(_)) => return Err("a DOCTYPE is not allowed in $metadata".into()),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            // A stray closing tag after the incident was read (as in the
            // guide's own sample) does not make its fields less valid.
            Err(_) if reading.seen_incident && reading.incident_depth.is_none() => break,
            Err(e) => return Err(format!("not well-formed XML: {e}")),
        }
    }
    if !reading.seen_incident {
        return Err("it has no EntityType named incident".into());
    }
    Ok(reading.fields())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = include_str!("../testdata/metadata-guide.xml");

    #[test]
    fn the_guides_sample() {
        let fields = parse(GUIDE.as_bytes()).unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ActualCategory", "CreatedDateTime", "Email"]);
        assert_eq!(fields[0].max_length, Some(60));
        assert_eq!(fields[0].value_type, "Edm.String");
        assert_eq!(fields[0].label, "Actual Category");
        assert_eq!(fields[1].value_type, "Edm.DateTimeOffset");
        assert!(!fields[1].updatable);
        assert!(fields[2].updatable);
    }

    #[test]
    fn key_and_valid_twins_are_dropped_links_kept() {
        let xml = r#"<?xml version="1.0"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="MetaData" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="employee"><Property Name="Nope" Type="Edm.String"/></EntityType>
<EntityType Name="incident"><Key><PropertyRef Name="RecId"/></Key>
<Property Name="RecId" Type="Edm.String" MaxLength="32"/>
<Property Name="Status_Valid" Type="Edm.String" MaxLength="32"/>
<Property Name="Status" Type="Edm.String" MaxLength="32"/>
<Property Name="Lonely_Valid" Type="Edm.String"/>
<Property Name="ProfileLink_RecID" Type="Edm.String" MaxLength="32"/>
<Property Name="IncidentNumber" Type="Edm.Int32"/>
<Property Name="NewNotes" Type="Edm.String"/>
<NavigationProperty Name="X" Type="Collection(MetaData.y)"><OnDelete Action="Cascade"/></NavigationProperty>
</EntityType></Schema></edmx:DataServices></edmx:Edmx>"#;
        let fields = parse(xml.as_bytes()).unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Status",
                "Lonely_Valid",
                "ProfileLink_RecID",
                "IncidentNumber",
                "NewNotes"
            ]
        );
        assert!(
            fields
                .iter()
                .find(|f| f.name == "NewNotes")
                .unwrap()
                .updatable
        );
        assert!(
            !fields
                .iter()
                .find(|f| f.name == "IncidentNumber")
                .unwrap()
                .updatable
        );
    }

    #[test]
    fn hostile_or_wrong_documents_are_errors() {
        assert!(parse(b"").unwrap_err().contains("no EntityType"));
        assert!(parse(b"{\"json\":true}").is_err());
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident"><Property Name="&lol2;"/></EntityType></Schema>"#;
        assert!(parse(bomb.as_bytes()).unwrap_err().contains("DOCTYPE"));
        let no_doctype = r#"<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident"><Property Name="&lol2;"/></EntityType></Schema>"#;
        assert!(parse(no_doctype.as_bytes()).is_err());
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("nested"));
        assert!(parse(&[0xff, 0xfe, 0x00, 0x3c]).is_err());
        // Invalid bytes are refused even where no field is read.
        let mut bytes = GUIDE.as_bytes().to_vec();
        bytes.insert(GUIDE.find("<Key>").unwrap(), 0xe9); // "é" in Latin-1
        assert!(parse(&bytes).unwrap_err().contains("not UTF-8"));
        let nul = GUIDE.replacen("ActualCategory\"", "Actual\u{0}Category\"", 1);
        assert!(parse(nul.as_bytes())
            .unwrap_err()
            .contains("control character"));
        let many = format!(
            "<Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\"><EntityType Name=\"incident\">{}</EntityType></Schema>",
            "<Property Name=\"a\"/>".repeat(MAX_PROPERTIES + 1)
        );
        assert!(parse(many.as_bytes())
            .unwrap_err()
            .contains("more than 10000 properties"));
        let enough = many.replacen("<Property Name=\"a\"/>", "", 1);
        assert_eq!(parse(enough.as_bytes()).unwrap().len(), MAX_PROPERTIES);
    }
}
