//! HTML defence in depth for the descriptions a listing carries.
//!
//! WordPress's `wp_kses_post` is the real sanitiser; this only makes sure
//! a `<script>` from the POS never reaches PHP.

/// Elements dropped with their content.
const DROP_WITH_CONTENT: [&str; 6] = ["script", "style", "iframe", "object", "embed", "noscript"];

/// Removes `<script>`, `<style>` (and iframe/object/embed/noscript) with
/// their content, every `on*` attribute, and attributes whose value is a
/// `javascript:`/`vbscript:`/`data:` URL. Everything else is kept as the
/// POS has it: WordPress's `wp_kses_post` is the real sanitiser; this is
/// defence in depth so a `<script>` from the POS never reaches PHP.
pub fn sanitize_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        // A `<` that cannot start a tag (`1 < 2`, `<3`) is text.
        let starts_tag = after[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !starts_tag {
            out.push_str("&lt;");
            rest = &after[1..];
            continue;
        }
        let Some(end) = tag_end(after) else {
            // An unterminated tag: drop the rest rather than emit half a tag.
            rest = "";
            break;
        };
        let tag = &after[..end];
        rest = &after[end..];
        let (closing, name) = tag_name(tag);
        if name.is_empty() {
            // `<!-- … -->`, `<!doctype>`, `< 3`: comments dropped, a stray
            // `<` escaped.
            if !tag.starts_with("<!") && !tag.starts_with("<?") {
                out.push_str("&lt;");
                rest = &after[1..];
            }
            continue;
        }
        if DROP_WITH_CONTENT.contains(&name.as_str()) {
            if !closing && !tag.ends_with("/>") {
                rest = skip_until_close(rest, &name);
            }
            continue;
        }
        out.push_str(&clean_tag(tag, closing, &name));
    }
    out.push_str(rest);
    out
}

/// Index just past the `>` closing the tag at the start of `s`, quotes
/// respected.
fn tag_end(s: &str) -> Option<usize> {
    if s.starts_with("<!--") {
        return s.find("-->").map(|i| i + 3);
    }
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

fn tag_name(tag: &str) -> (bool, String) {
    let inner = &tag[1..];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if name.is_empty() || !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return (closing, String::new());
    }
    (closing, name)
}

/// Skips past `</name …>` (case-insensitive); everything when missing.
fn skip_until_close<'a>(s: &'a str, name: &str) -> &'a str {
    let lower = s.to_ascii_lowercase();
    let needle = format!("</{name}");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        let at = from + i;
        let after = at + needle.len();
        let boundary = lower[after..]
            .chars()
            .next()
            .is_none_or(|c| c == '>' || c.is_ascii_whitespace() || c == '/');
        if boundary {
            return match s[at..].find('>') {
                Some(j) => &s[at + j + 1..],
                None => "",
            };
        }
        from = after;
    }
    ""
}

/// Rebuilds a tag without event handlers and script URLs.
fn clean_tag(tag: &str, closing: bool, name: &str) -> String {
    if closing {
        return format!("</{name}>");
    }
    let self_closing = tag.ends_with("/>");
    let body_start = 1 + name.len();
    let body_end = tag.len() - if self_closing { 2 } else { 1 };
    let body = tag.get(body_start..body_end.max(body_start)).unwrap_or("");
    let mut out = format!("<{}", &tag[1..body_start]);
    for (attr, value, raw) in attributes(body) {
        let lower = attr.to_ascii_lowercase();
        if lower.starts_with("on") {
            continue;
        }
        if let Some(v) = &value {
            let compact: String = v
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            if compact.starts_with("javascript:")
                || compact.starts_with("vbscript:")
                || (compact.starts_with("data:") && lower != "src")
                || compact.starts_with("data:text/html")
            {
                continue;
            }
        }
        out.push(' ');
        out.push_str(raw);
    }
    out.push_str(if self_closing { " />" } else { ">" });
    out
}

/// `(name, value, raw text)` of each attribute in a tag body.
fn attributes(body: &str) -> Vec<(String, Option<String>, &str)> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = body[start..i].to_string();
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = None;
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let q = b[j];
                let vs = j + 1;
                let mut k = vs;
                while k < b.len() && b[k] != q {
                    k += 1;
                }
                value = Some(body[vs..k].to_string());
                i = (k + 1).min(b.len());
            } else {
                let vs = j;
                let mut k = vs;
                while k < b.len() && !b[k].is_ascii_whitespace() {
                    k += 1;
                }
                value = Some(body[vs..k].to_string());
                i = k;
            }
        }
        if !name.is_empty() {
            out.push((name, value, body[start..i].trim_end()));
        } else {
            i += 1;
        }
    }
    out
}
