//! The template examples of docs/campaign.md are copy-paste ready: each, pasted into the bundled
//! campaign as the docs say, passes `check` and renders.

use crate::util::{self, Sandbox};

/// The ```hbs blocks of docs/campaign.md, in order.
fn template_examples() -> Vec<String> {
    let doc = std::fs::read_to_string(util::repo_file("docs/campaign.md")).unwrap();
    let blocks = doc.split("```hbs\n").skip(1);
    blocks
        .map(|b| b.split("\n```").next().unwrap().to_string() + "\n")
        .collect()
}

#[test]
fn every_template_example_in_the_campaign_guide_checks_and_renders() {
    let examples = template_examples();
    assert!(examples.len() >= 6, "{} examples", examples.len());
    for features in [
        "{{#each demands}}",
        "{{#each facts}}",
        "{{#if (eq role",
        "{{#unless",
        "{{else}}",
        "{{fact.",
        "{{statement.",
        "{{signer.",
        "{{date}}",
        "{{group.label}}",
        "{{personal_note}}",
        "{{#editable \"",
        "{{!--",
    ] {
        assert!(
            examples.iter().any(|e| e.contains(features)),
            "no example of {features}"
        );
    }
    for example in &examples {
        let sb = Sandbox::empty();
        sb.cmd().args(["init", "c"]).run().success();
        // The French example goes beside the English template, as the guide says.
        let french = example.contains("Je vous écris");
        let file = match french {
            true => "c/templates/governments.fr.md.hbs",
            false => "c/templates/governments.md.hbs",
        };
        sb.write(file, example);
        sb.cmd()
            .args(["--campaign", "c", "check"])
            .run()
            .success()
            .stdout_has("0 errors")
            .stderr_lacks("error:");
        let country = if french { "France" } else { "China" };
        sb.render("governments", "txt", "out")
            .args(["--campaign", "c", "--where", &format!("country={country}")])
            .run()
            .success();
        let letter = sb.read(&format!("out/{}", sb.files("out")[0]));
        assert!(
            !letter.contains("{{") && !letter.contains("--}}"),
            "{letter}"
        );
        if example.contains("(eq role \"china\")") {
            assert!(
                letter.contains("I call on your government to end the abuses"),
                "{letter}"
            );
            assert!(!letter.contains("press for an end"), "{letter}");
        }
        if french {
            assert!(
                letter.contains("Je demande à votre gouvernement de"),
                "{letter}"
            );
        }
    }
}
