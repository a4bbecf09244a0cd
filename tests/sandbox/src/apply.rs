// TEMPORARY STUB
use serde_json::Value;
pub struct ApplyConflict {
    pub message: String,
    pub causes: Vec<(String, String)>,
}
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    _: &str,
    _: bool,
    _: &str,
) -> Result<Value, ApplyConflict> {
    let mut out = live.cloned().unwrap_or(Value::Null);
    crate::patch::merge_patch(&mut out, config);
    Ok(out)
}
pub fn track_update(_: Option<&Value>, _: &mut Value, _: &str, _: &str, _: &str) {}
