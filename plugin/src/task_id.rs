//! The plugin's task id, `<IncidentNumber>|<RecId>`, and the Ivanti
//! identifiers it is made of: checked here before any goes into a path
//! or a `$filter`.

/// Ivanti RecIds are 32 hexadecimal characters.
pub fn is_rec_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An incident number: decimal digits only, fitting in u64 (20 digits at
/// most: with 19, a record numbered from 10^19 gave a task id the plugin
/// then refused).
pub fn incident_number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The plugin's task id: `<IncidentNumber>|<RecId>`.
pub fn task_id(number: u64, rec_id: &str) -> String {
    format!("{number}|{rec_id}")
}

/// Splits and checks a task id.
pub fn parse_task_id(id: &str) -> Result<(u64, String), String> {
    let (number, rec) = id.split_once('|').ok_or_else(|| {
        format!(
            "task id '{}' is not <IncidentNumber>|<RecId>",
            crate::errors::excerpt(id.as_bytes())
        )
    })?;
    let number = incident_number(number.trim()).ok_or_else(|| {
        format!(
            "task id '{}' has no valid incident number",
            crate::errors::excerpt(id.as_bytes())
        )
    })?;
    let rec = rec.trim();
    if !is_rec_id(rec) {
        return Err(format!(
            "task id '{}' has no valid RecId (32 hexadecimal characters)",
            crate::errors::excerpt(id.as_bytes())
        ));
    }
    Ok((number, rec.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(is_rec_id("C9DF0BC0489447FEAC558BA55AEF17B9"));
        assert!(!is_rec_id("C9DF0BC0489447FEAC558BA55AEF17B"));
        assert!(!is_rec_id(
            "C9DF0BC0489447FEAC558BA55AEF17B9') or 1 eq 1 or ('"
        ));
        assert_eq!(incident_number("78986"), Some(78986));
        assert_eq!(incident_number("7 or 1"), None);
        assert_eq!(incident_number(""), None);
        assert_eq!(incident_number("18446744073709551615"), Some(u64::MAX));
        assert_eq!(incident_number("18446744073709551616"), None);
        assert_eq!(incident_number("000000000000000000001"), None);
        let id = task_id(u64::MAX, "C9DF0BC0489447FEAC558BA55AEF17B9");
        assert_eq!(parse_task_id(&id).unwrap().0, u64::MAX);
        assert_eq!(
            parse_task_id("78986|c9df0bc0489447feac558ba55aef17b9").unwrap(),
            (78986, "C9DF0BC0489447FEAC558BA55AEF17B9".into())
        );
        assert!(parse_task_id("78986")
            .unwrap_err()
            .contains("<IncidentNumber>|<RecId>"));
        assert!(parse_task_id("x|C9DF0BC0489447FEAC558BA55AEF17B9")
            .unwrap_err()
            .contains("incident number"));
        assert!(parse_task_id("1|')").unwrap_err().contains("RecId"));
    }
}
