//! A letter template Handlebars has parsed, run without Handlebars' interpreter.
//!
//! Handlebars resolves every `{{name}}` through its render context and a JSON path for each of a
//! million letters, which was a third of the cost of rendering one. Campaign templates use a small
//! part of the language: text, `{{path}}`, `{{#if}}`, `{{#unless}}`, `{{#each}}` and comments.
//! A template made only of those is compiled once into a `Plan` whose column references are
//! already indexes into the CSV record. Anything else in a template (other helpers, partials,
//! `../` or `@index` paths, block parameters) leaves it to Handlebars, and so does any letter
//! where the plan meets something it does not render exactly as Handlebars would (a missing
//! variable, which strict mode makes an error with Handlebars' own message; a value that is not a
//! string; `each` over an object). Debug builds render every letter both ways and compare them.

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{JsonTruthy, Path, PathSeg};
use serde_json::{Map, Value};

/// Helpers `Handlebars::new()` registers (with every optional feature); letterdrive registers
/// none of its own. A `{{name}}` that names one calls it instead of looking `name` up.
const HELPERS: &[&str] = &[
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "log",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "lowerCamelCase",
    "upperCamelCase",
    "snakeCase",
    "kebabCase",
    "shoutySnakeCase",
    "shoutyKebabCase",
    "titleCase",
    "trainCase",
    "helperMissing",
    "blockHelperMissing",
];

#[derive(Debug)]
pub struct Plan {
    nodes: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Text(Box<str>),
    Value(Lookup),
    If {
        test: Test,
        /// `unless`
        negate: bool,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Each {
        list: Lookup,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
}

/// What `if` and `unless` test: a value's truth, or `(eq a b)` / `(ne a b)`.
#[derive(Debug)]
enum Test {
    Truthy(Lookup),
    Compare { equal: bool, a: Operand, b: Operand },
}

#[derive(Debug)]
enum Operand {
    Lookup(Lookup),
    Literal(Value),
}

#[derive(Debug)]
enum Lookup {
    /// A CSV column, then a path into it (which a string never has: such a lookup is missing).
    Column(usize, Box<[String]>),
    /// A path from the top of the context: a built-in such as `signer.name` or `demands`.
    Root(Box<[String]>),
    /// A path from the item of the innermost `each`; empty for `this`.
    Item(Box<[String]>),
}

/// What a lookup found.
enum Found<'a> {
    Str(&'a str),
    Json(&'a Value),
}

impl Plan {
    /// The plan of `template`, or `None` when it uses more of Handlebars than a plan renders.
    /// `column(name)` gives the record index a top-level `name` reads, if it is a column the
    /// template sees.
    pub fn compile(template: &Template, column: &dyn Fn(&str) -> Option<usize>) -> Option<Plan> {
        let nodes = compile_elements(template, 0, column)?;
        Some(Plan { nodes })
    }

    /// Appends the rendered template to `out` and returns true, or returns false, leaving `out`
    /// as it was, when Handlebars must render this letter.
    pub fn render(
        &self,
        root: &Map<String, Value>,
        record: &csv::StringRecord,
        out: &mut String,
    ) -> bool {
        let start = out.len();
        let ok = run(&self.nodes, root, record, None, out);
        if !ok {
            out.truncate(start);
        }
        ok
    }
}

fn compile_elements(
    template: &Template,
    depth: usize,
    column: &dyn Fn(&str) -> Option<usize>,
) -> Option<Vec<Node>> {
    let mut nodes = Vec::with_capacity(template.elements.len());
    for element in &template.elements {
        match element {
            TemplateElement::RawString(s) => nodes.push(Node::Text(s.as_str().into())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                if ht.block
                    || !ht.params.is_empty()
                    || !ht.hash.is_empty()
                    || ht.block_param.is_some()
                {
                    return None;
                }
                let Parameter::Path(path) = &ht.name else {
                    return None;
                };
                nodes.push(Node::Value(lookup(path, depth, column, true)?));
            }
            TemplateElement::HelperBlock(ht) => nodes.push(compile_block(ht, depth, column)?),
            _ => return None,
        }
    }
    Some(nodes)
}

fn compile_block(
    ht: &HelperTemplate,
    depth: usize,
    column: &dyn Fn(&str) -> Option<usize>,
) -> Option<Node> {
    let name = helper_name(&ht.name)?;
    if ht.params.len() != 1 || !ht.hash.is_empty() || ht.block_param.is_some() {
        return None;
    }
    let param = &ht.params[0];
    let sub = |t: &Option<Template>, depth| match t {
        Some(t) => compile_elements(t, depth, column),
        None => Some(Vec::new()),
    };
    match name {
        "if" | "unless" => Some(Node::If {
            test: test(param, depth, column)?,
            negate: name == "unless",
            then: sub(&ht.template, depth)?,
            otherwise: sub(&ht.inverse, depth)?,
        }),
        "each" => Some(Node::Each {
            list: match param {
                Parameter::Path(p) => lookup(p, depth, column, false)?,
                _ => return None,
            },
            body: sub(&ht.template, depth + 1)?,
            otherwise: match &ht.inverse {
                Some(t) => Some(compile_elements(t, depth, column)?),
                None => None,
            },
        }),
        _ => None,
    }
}

/// The name of a helper, which the parser gives as a name or as a one-segment path.
fn helper_name(p: &Parameter) -> Option<&str> {
    match p {
        Parameter::Name(n) => Some(n.as_str()),
        Parameter::Path(Path::Relative((segs, _))) => match segs.as_slice() {
            [PathSeg::Named(n)] => Some(n.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn test(param: &Parameter, depth: usize, column: &dyn Fn(&str) -> Option<usize>) -> Option<Test> {
    match param {
        Parameter::Path(p) => Some(Test::Truthy(lookup(p, depth, column, false)?)),
        Parameter::Subexpression(sub) => {
            let TemplateElement::Expression(ht) = sub.as_element() else {
                return None;
            };
            let equal = match helper_name(&ht.name)? {
                "eq" => true,
                "ne" => false,
                _ => return None,
            };
            let [a, b] = ht.params.as_slice() else {
                return None;
            };
            if !ht.hash.is_empty() {
                return None;
            }
            let operand = |p: &Parameter| match p {
                Parameter::Path(p) => Some(Operand::Lookup(lookup(p, depth, column, false)?)),
                Parameter::Literal(v) => Some(Operand::Literal(v.clone())),
                _ => None,
            };
            Some(Test::Compare {
                equal,
                a: operand(a)?,
                b: operand(b)?,
            })
        }
        _ => None,
    }
}

fn lookup(
    path: &Path,
    depth: usize,
    column: &dyn Fn(&str) -> Option<usize>,
    value_position: bool,
) -> Option<Lookup> {
    let Path::Relative((segs, raw)) = path else {
        return None;
    };
    // `{{len}}` calls the helper; only `{{this.len}}`-like paths are plain lookups.
    if value_position && HELPERS.contains(&raw.as_str()) {
        return None;
    }
    let names: Vec<String> = segs
        .iter()
        .map(|s| match s {
            PathSeg::Named(n) => Some(n.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if depth > 0 {
        return Some(Lookup::Item(names.into()));
    }
    match names.split_first() {
        Some((first, rest)) => match column(first) {
            Some(i) => Some(Lookup::Column(i, rest.into())),
            None => Some(Lookup::Root(names.into())),
        },
        // `{{this}}` at the top is the whole context, which renders as "[object]".
        None => None,
    }
}

fn navigate<'a>(mut v: &'a Value, segs: &[String]) -> Option<&'a Value> {
    for s in segs {
        v = match v {
            Value::Object(m) => m.get(s)?,
            _ => return None,
        };
    }
    Some(v)
}

fn find<'a>(
    lookup: &Lookup,
    root: &'a Map<String, Value>,
    record: &'a csv::StringRecord,
    item: Option<&'a Value>,
) -> Option<Found<'a>> {
    match lookup {
        Lookup::Column(i, rest) if rest.is_empty() => record.get(*i).map(Found::Str),
        Lookup::Column(..) => None,
        Lookup::Root(segs) => {
            let (first, rest) = segs.split_first()?;
            navigate(root.get(first)?, rest).map(Found::Json)
        }
        Lookup::Item(segs) => navigate(item?, segs).map(Found::Json),
    }
}

fn operand<'a>(
    o: &'a Operand,
    root: &'a Map<String, Value>,
    record: &'a csv::StringRecord,
    item: Option<&'a Value>,
) -> Option<Found<'a>> {
    match o {
        Operand::Lookup(l) => find(l, root, record, item),
        Operand::Literal(v) => Some(Found::Json(v)),
    }
}

/// `a == b` for the JSON values they stand for; a column is a JSON string.
fn same_json(a: &Found, b: &Found) -> bool {
    match (a, b) {
        (Found::Str(x), Found::Str(y)) => x == y,
        (Found::Str(x), Found::Json(Value::String(y)))
        | (Found::Json(Value::String(y)), Found::Str(x)) => x == y,
        (Found::Str(_), Found::Json(_)) | (Found::Json(_), Found::Str(_)) => false,
        (Found::Json(x), Found::Json(y)) => x == y,
    }
}

fn run(
    nodes: &[Node],
    root: &Map<String, Value>,
    record: &csv::StringRecord,
    item: Option<&Value>,
    out: &mut String,
) -> bool {
    for node in nodes {
        match node {
            Node::Text(s) => out.push_str(s),
            Node::Value(l) => match find(l, root, record, item) {
                Some(Found::Str(s)) => out.push_str(s),
                Some(Found::Json(Value::String(s))) => out.push_str(s),
                _ => return false,
            },
            Node::If {
                test,
                negate,
                then,
                otherwise,
            } => {
                let truthy = match test {
                    Test::Truthy(l) => match find(l, root, record, item) {
                        Some(Found::Str(s)) => !s.is_empty(),
                        Some(Found::Json(v)) => v.is_truthy(false),
                        // Handlebars takes a missing value as false (or, in `eq`, as an error);
                        // the plan leaves even that to it.
                        None => return false,
                    },
                    Test::Compare { equal, a, b } => {
                        let (Some(a), Some(b)) = (
                            operand(a, root, record, item),
                            operand(b, root, record, item),
                        ) else {
                            return false;
                        };
                        same_json(&a, &b) == *equal
                    }
                };
                let branch = if truthy != *negate { then } else { otherwise };
                if !run(branch, root, record, item, out) {
                    return false;
                }
            }
            Node::Each {
                list,
                body,
                otherwise,
            } => match (find(list, root, record, item), otherwise) {
                (Some(Found::Json(Value::Array(items))), _) if !items.is_empty() => {
                    for v in items {
                        if !run(body, root, record, Some(v), out) {
                            return false;
                        }
                    }
                }
                (Some(Found::Json(Value::Array(_))), None) => {}
                (Some(Found::Json(Value::Array(_))), Some(otherwise)) => {
                    if !run(otherwise, root, record, item, out) {
                        return false;
                    }
                }
                _ => return false,
            },
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use handlebars::{no_escape, Handlebars};
    use serde_json::json;

    const COLUMNS: [&str; 4] = ["name", "country", "note", "len"];

    /// Renders `template` with the plan and with Handlebars (strict, no escaping, as letters are)
    /// for `record`; returns the plan's output, or None when it left the letter to Handlebars.
    fn both(template: &str, record: &[&str]) -> (Option<String>, Result<String, String>) {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(no_escape);
        hb.register_template_string("t", template).unwrap();
        let mut root = json!({
            "signer": {"name": "Ada", "city": "Lyon"},
            "demands": [{"id": "a", "text": "Free them"}, {"id": "b", "text": "Publish it"}],
            "none": [],
            "personal_note": "",
            "count": 3,
        });
        let root_map = root.as_object().unwrap().clone();
        let record = csv::StringRecord::from(record.to_vec());
        for (c, v) in COLUMNS.iter().zip(record.iter()) {
            root[*c] = Value::String(v.to_string());
        }
        let expected = hb.render("t", &root).map_err(|e| e.to_string());
        let column = |n: &str| COLUMNS.iter().position(|c| *c == n);
        let plan = Plan::compile(hb.get_template("t").unwrap(), &column);
        let got = plan.and_then(|p| {
            let mut out = String::from("kept");
            p.render(&root_map, &record, &mut out)
                .then(|| out[4..].to_string())
        });
        (got, expected)
    }

    fn same(template: &str, record: &[&str]) -> String {
        let (got, expected) = both(template, record);
        let expected = expected.unwrap();
        assert_eq!(
            got.as_deref(),
            Some(expected.as_str()),
            "template {template:?}"
        );
        expected
    }

    fn left_to_handlebars(template: &str, record: &[&str]) {
        let (got, _) = both(template, record);
        assert_eq!(got, None, "template {template:?}");
    }

    const ROW: [&str; 4] = ["Zoë", "France", "", "7"];

    #[test]
    fn renders_what_handlebars_renders() {
        assert_eq!(
            same("Dear {{name}} of {{{country}}},", &ROW),
            "Dear Zoë of France,"
        );
        same("{{signer.name}}, {{signer.city}}\n", &ROW);
        same("{{!-- a comment --}}A{{! another }}B", &ROW);
        same(
            "before\n{{#each demands}}\n- {{this.text}} ({{id}})\n{{/each}}\nafter\n",
            &ROW,
        );
        same("{{#each none}}x{{else}}nothing{{/each}}", &ROW);
        same("{{#each none}}x{{/each}}|", &ROW);
        same(
            "{{#each demands}}{{#if text}}[{{text}}]{{/if}}{{/each}}",
            &ROW,
        );
        same("{{#if note}}N{{else}}no note{{/if}}", &ROW);
        same(
            "{{#if note}}N{{else}}no note{{/if}}",
            &["Zoë", "France", "x", "7"],
        );
        same("{{#unless personal_note}}none{{/unless}}", &ROW);
        same(
            "{{#if personal_note}}\n{{personal_note}}\n\n{{/if}}\nWith respect,\n",
            &ROW,
        );
        same("{{#if none}}a{{else if name}}b{{else}}c{{/if}}", &ROW);
        same(
            r#"{{#if (eq country "France")}}fr{{else}}other{{/if}}"#,
            &ROW,
        );
        same(
            r#"{{#if (eq country "Spain")}}es{{else}}other{{/if}}"#,
            &ROW,
        );
        same(
            r#"{{#unless (ne signer.city "Lyon")}}Lyon{{/unless}}"#,
            &ROW,
        );
        same(
            "{{#if (eq count 3)}}three{{/if}}{{#if (eq len 7)}}seven{{/if}}",
            &ROW,
        );
        same(
            "{{#if (eq name country)}}same{{/if}}{{#if (ne demands none)}}differ{{/if}}",
            &ROW,
        );
        same(
            "{{#each demands}}{{#if (eq id \"b\")}}{{text}}{{/if}}{{/each}}",
            &ROW,
        );
        same("  {{~name~}}  !", &ROW);
        same("a \\{{name}} b", &ROW);
    }

    #[test]
    fn leaves_the_rest_to_handlebars() {
        // A missing variable: Handlebars' strict-mode error names it.
        let (got, expected) = both("{{nmae}}", &ROW);
        assert_eq!(got, None);
        assert!(expected.unwrap_err().contains("nmae"));
        left_to_handlebars("{{#if missing}}a{{/if}}", &ROW);
        left_to_handlebars("{{count}}", &ROW);
        left_to_handlebars("{{signer}}", &ROW);
        left_to_handlebars("{{name.first}}", &ROW);
        // Helpers, `len` included even though a column has that name.
        left_to_handlebars("{{len}}", &ROW);
        left_to_handlebars("{{#each demands}}{{@index}}{{/each}}", &ROW);
        left_to_handlebars("{{#each demands as |d|}}{{d.text}}{{/each}}", &ROW);
        left_to_handlebars("{{#with signer}}{{name}}{{/with}}", &ROW);
        left_to_handlebars("{{lookup demands 0}}", &ROW);
        left_to_handlebars("{{#each signer}}{{this}}{{/each}}", &ROW);
        left_to_handlebars("{{#if count includeZero=true}}a{{/if}}", &ROW);
        left_to_handlebars("{{this}}", &ROW);
        left_to_handlebars("{{#if (eq missing 3)}}a{{/if}}", &ROW);
        left_to_handlebars("{{#if (gt count 3)}}a{{/if}}", &ROW);
        left_to_handlebars("{{#if (eq (len demands) 2)}}a{{/if}}", &ROW);
        left_to_handlebars("{{@root.name}}", &ROW);
    }
}
