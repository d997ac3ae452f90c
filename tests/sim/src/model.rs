//! The incident business object: its fields (from the guide's create sample
//! plus custom fields), the `$metadata` document, and record serialization in
//! Ivanti's field order.

use crate::config::SimConfig;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// The guide's sample employee, verbatim.
pub const EMPLOYEE_SAMPLE: &str = include_str!("samples/employee.json");
/// The guide's create-incident sample response (trailing comma removed).
pub const INCIDENT_CREATE_SAMPLE: &str = include_str!("samples/incident_create.json");
/// RecId of the guide's sample employee, replaced by the configured one.
pub const SAMPLE_EMPLOYEE_REC_ID: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";

/// A JSON object that keeps its key order.
pub struct Ordered(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, Value>()? {
                    v.push((k, val));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// One property of the incident entity type.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub edm_type: String,
    pub max_length: Option<u32>,
    /// `Unicode="false"` (RecId-like columns).
    pub ascii: bool,
}

/// The incident business object's fields and the default record.
#[derive(Debug)]
pub struct Schema {
    pub fields: Vec<Field>,
    by_lower: HashMap<String, usize>,
    /// Default values (the create sample's values), one per field.
    pub template: Vec<Value>,
}

fn infer(name: &str, sample: &Value) -> Field {
    let f = |t: &str, m: Option<u32>, ascii: bool| Field {
        name: name.to_string(),
        edm_type: t.to_string(),
        max_length: m,
        ascii,
    };
    match name {
        "IncidentNumber" | "ResolvedByIncidentNumber" | "ClosedDuration" => {
            return f("Edm.Int32", None, false)
        }
        "Cost" | "CostPerMinute" | "TotalTimeSpent" => return f("Edm.Decimal", None, false),
        "Subject" | "Email" => return f("Edm.String", Some(255), false),
        "Status" => return f("Edm.String", Some(32), false),
        "ActualCategory" | "Category" => return f("Edm.String", Some(60), false),
        "Symptom" | "NewNotes" | "Resolution" | "SLADisplayText" | "IncidentDetailSummary" => {
            return f("Edm.String", None, false)
        }
        "RecId" | "EventCIRecId" | "ProfileLink" => return f("Edm.String", Some(32), true),
        // Derived as "Incident <number>: <Subject>", so it must hold a full Subject.
        "SocialTextHeader" => return f("Edm.String", Some(300), false),
        _ => {}
    }
    if sample.is_boolean() {
        return f("Edm.Boolean", None, false);
    }
    if name.ends_with("DateTime") {
        return f("Edm.DateTimeOffset", None, false);
    }
    if name.ends_with("_Valid")
        || name.ends_with("_RecID")
        || name.ends_with("CurrencyValid")
        || name.ends_with("Link")
    {
        return f("Edm.String", Some(32), true);
    }
    if name.ends_with("_Category") {
        return f("Edm.String", Some(100), true);
    }
    if name.ends_with("_Currency") {
        return f("Edm.String", Some(3), true);
    }
    if name.ends_with("Email") {
        return f("Edm.String", Some(255), false);
    }
    f("Edm.String", Some(100), false)
}

impl Schema {
    pub fn new(cfg: &SimConfig) -> Schema {
        let sample: Ordered =
            serde_json::from_str(INCIDENT_CREATE_SAMPLE).expect("embedded sample is valid JSON");
        let mut fields = Vec::new();
        let mut template = Vec::new();
        for (k, v) in sample.0 {
            if k.starts_with('@') {
                continue;
            }
            fields.push(infer(&k, &v));
            template.push(v);
        }
        let mut s = Schema {
            fields,
            by_lower: HashMap::new(),
            template,
        };
        s.reindex();
        for c in &cfg.custom_fields {
            let field = Field {
                name: c.name.clone(),
                edm_type: c.edm_type.clone(),
                max_length: c.max_length,
                ascii: false,
            };
            match s.index(&c.name) {
                Some(i) => s.fields[i] = field,
                None => {
                    s.fields.push(field);
                    s.template.push(Value::Null);
                }
            }
            s.reindex();
        }
        s
    }

    fn reindex(&mut self) {
        self.by_lower = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
    }

    /// Column of a field name (case-insensitive, like Ivanti).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_lower.get(&name.to_ascii_lowercase()).copied()
    }

    /// Column of a field that is known to exist.
    pub fn col(&self, name: &str) -> usize {
        self.index(name).expect("known incident field")
    }

    /// The `$metadata` EDMX document.
    pub fn metadata_xml(&self) -> String {
        let mut x = String::with_capacity(32 * 1024);
        x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        x.push_str(
            "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n",
        );
        x.push_str("    <edmx:DataServices>\n");
        x.push_str("        <Schema Namespace=\"MetaData\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n");
        x.push_str("            <EntityType Name=\"incident\">\n");
        x.push_str("                <Key>\n                    <PropertyRef Name=\"RecId\" />\n                </Key>\n");
        for f in &self.fields {
            x.push_str(&format!(
                "                <Property Name=\"{}\" Type=\"{}\"",
                xml_escape(&f.name),
                xml_escape(&f.edm_type)
            ));
            if f.edm_type == "Edm.Decimal" {
                x.push_str(" Precision=\"19\" Scale=\"4\"");
            }
            if let Some(m) = f.max_length {
                x.push_str(&format!(" MaxLength=\"{m}\""));
            }
            if f.ascii {
                x.push_str(" Unicode=\"false\"");
            }
            if f.name == "RecId" || f.name == "IncidentNumber" {
                x.push_str(" Nullable=\"false\"");
            }
            x.push_str(" />\n");
        }
        for (name, target) in [
            ("IncidentAssociatedChat", "ivnt_chat"),
            ("IncidentAssocIncidentNeuronIntegration", "incident"),
            (
                "ivnt_SecurityIncidentAssocIncidentNeuronsIntegration",
                "ivnt_securityincident",
            ),
            (
                "MicrosoftTeamsUserDetailsAssocIncident",
                "ivnt_microsoftteamsuserdetails",
            ),
            ("ivnt_GRCRiskAssocIncident", "ivnt_grcrisk"),
            ("ivnt_GRCAuditAssocIncident", "ivnt_grcaudit"),
        ] {
            x.push_str(&format!(
                "                <NavigationProperty Name=\"{name}\" Type=\"Collection(MetaData.{target})\">\n                    <OnDelete Action=\"Cascade\" />\n                </NavigationProperty>\n"
            ));
        }
        x.push_str("            </EntityType>\n        </Schema>\n    </edmx:DataServices>\n</edmx:Edmx>\n");
        x
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A record serialized in field order, optionally with `@odata.context` first
/// and optionally restricted to some columns (`$select`).
pub struct RecordOut<'a> {
    pub schema: &'a Schema,
    pub values: &'a [Value],
    pub context: Option<&'a str>,
    pub select: Option<&'a [usize]>,
}

impl Serialize for RecordOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(c) = self.context {
            m.serialize_entry("@odata.context", c)?;
        }
        match self.select {
            Some(cols) => {
                for &i in cols {
                    m.serialize_entry(&self.schema.fields[i].name, &self.values[i])?;
                }
            }
            None => {
                for (f, v) in self.schema.fields.iter().zip(self.values) {
                    m.serialize_entry(&f.name, v)?;
                }
            }
        }
        m.end()
    }
}

/// `Status_Valid` RecIds seen in the guide, and a stable made-up one otherwise.
pub fn status_valid(status: &str) -> String {
    match status {
        "Logged" => "AB3D0090B6D8471FB0D2720D301A22AF".into(),
        "Resolved" => "D562C1C0DF4742CB8D60276059C3B828".into(),
        "Closed" => "2905321A3B12477A82E94E289F47786B".into(),
        other => stable_hex(other),
    }
}

/// `ProgressBarPosition` for a status (the guide shows 1 Logged, 4 Resolved, 5 Closed).
pub fn progress_position(status: &str) -> &'static str {
    match status {
        "Logged" => "1",
        "Active" => "2",
        s if s.starts_with("Waiting") => "3",
        "Resolved" => "4",
        "Closed" | "Cancelled" => "5",
        _ => "1",
    }
}

/// 32 upper-case hex characters derived from a string (FNV-1a, twice).
pub fn stable_hex(s: &str) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in s.bytes() {
        h1 = (h1 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        h2 = (h2 ^ b as u64).wrapping_mul(0x100_0000_01b3).rotate_left(5);
    }
    format!("{h1:016X}{h2:016X}")
}

/// The employee record served for the configured RecId.
pub fn employee_json(cfg: &SimConfig, base_url: &str) -> String {
    EMPLOYEE_SAMPLE
        .replace(SAMPLE_EMPLOYEE_REC_ID, &cfg.employee_rec_id)
        .replace(
            "https://netskope-try.trysaasit.com/api/odata/$metadata",
            &format!("{base_url}/api/odata/$metadata"),
        )
}

/// Fields of the sample employee that incidents copy.
pub struct EmployeeInfo {
    pub display_name: String,
    pub email: String,
    pub login_id: String,
    pub network_user_name: String,
}

pub fn employee_info() -> EmployeeInfo {
    let v: Value = serde_json::from_str(EMPLOYEE_SAMPLE).expect("embedded sample is valid JSON");
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    EmployeeInfo {
        display_name: s("DisplayName"),
        email: s("PrimaryEmail"),
        login_id: s("LoginID"),
        network_user_name: s("NetworkUserName"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_follows_sample() {
        let s = Schema::new(&SimConfig::default());
        assert_eq!(s.fields[0].name, "ActualCategory_Valid");
        assert_eq!(s.fields.len(), s.template.len());
        assert_eq!(s.fields[s.col("IncidentNumber")].edm_type, "Edm.Int32");
        assert_eq!(s.index("subject"), s.index("Subject"));
        assert!(s.metadata_xml().contains("<PropertyRef Name=\"RecId\" />"));
    }

    #[test]
    fn sample_values_fit_their_max_length() {
        let s = Schema::new(&SimConfig::default());
        for (f, v) in s.fields.iter().zip(&s.template) {
            if let (Some(m), Some(text)) = (f.max_length, v.as_str()) {
                assert!(text.chars().count() <= m as usize, "{}: {text}", f.name);
            }
        }
    }
}
