//! What the pages show: the plain data of [`domain::view`], re-exported under the name the
//! pages and server functions use.

pub use domain::view::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn audit_filters_read_dates_as_whole_utc_days_and_refuse_nonsense() {
        let f = AuditFilter::parse(Some(" ada ".into()), Some("".into()), None, Some("2026-11-30"), Some("2026-11-30"))
            .unwrap();
        assert_eq!(f.actor.as_deref(), Some("ada"));
        assert_eq!(f.action, None);
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        let f = AuditFilter::parse(None, None, None, Some("2026-11-30T10:00:00+01:00"), None).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T09:00:00+00:00");
        for bad in ["yesterday", "2026-13-01", "30/11/2026"] {
            assert_eq!(
                AppError::from(AuditFilter::parse(None, None, None, Some(bad), None).unwrap_err()).code(),
                "invalid"
            );
        }
        assert!(AuditFilter::parse(Some("a\nb".into()), None, None, None, None).is_err());
    }
}
