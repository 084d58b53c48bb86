//! `xent demo [--seed N] [--lang en|ko] [--json]`: print the walkthrough of [`xent::demo`].

use std::process::ExitCode;

use xent::demo::Lang;

/// Language of the walkthrough.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum LangArg {
    /// English.
    #[default]
    En,
    /// Korean (한국어).
    Ko,
}

/// Arguments of `xent demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Seed of the random x_int, x and y (SplitMix64).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Language of the explanations.
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
    /// Print one JSON object {"seed", "arrays", "checks"} instead of the walkthrough.
    #[arg(long)]
    json: bool,
}

/// Run `xent demo`.
pub fn run(a: DemoArgs) -> ExitCode {
    let report = match xent::demo::run(a.seed) {
        Ok(r) => r,
        Err(e) => return super::fail(&e),
    };
    if a.json {
        println!("{}", report.to_json());
    } else {
        let lang = match a.lang {
            LangArg::En => Lang::En,
            LangArg::Ko => Lang::Ko,
        };
        print!("{}", report.render(lang));
        // The closing section: `xent explain` on the demo's own pair of numbers.
        match xent::explain::demo_section(&report, lang) {
            Ok(s) => print!("{s}"),
            Err(e) => return super::fail(&e),
        }
    }
    ExitCode::SUCCESS
}
