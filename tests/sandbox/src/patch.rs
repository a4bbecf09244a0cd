// TEMPORARY STUB
use serde_json::Value;
pub fn merge_patch(target: &mut Value, patch: &Value) {
    if let Value::Object(p) = patch {
        if !target.is_object() {
            *target = Value::Object(Default::default());
        }
        let t = target.as_object_mut().unwrap();
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    } else {
        *target = patch.clone();
    }
}
pub fn json_patch(_: &mut Value, _: &Value) -> Result<(), String> {
    Err("stub".into())
}
pub fn strategic_merge_patch(t: &mut Value, p: &Value) -> Result<(), String> {
    merge_patch(t, p);
    Ok(())
}
