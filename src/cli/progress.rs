//! Progress reports on stderr for both binaries: a spinner or byte bar when stderr is a
//! terminal, one plain line per step otherwise, nothing with `--quiet`.
//!
//! Use: `let progress = Progress::new(args.quiet);`, then `progress.step("resolving …")` before
//! each phase, `let transfer = progress.bytes("pulling layer", total)` with `transfer.inc(n)`
//! for byte counts, `progress.warn(…)` for warnings (above any bar; silenced with `--quiet`
//! like every other line that is not the command's result), and `progress.finish()` (also done on drop). Colour is used only on a
//! terminal and never when `NO_COLOR` is set (no-color.org). Standard output is never touched:
//! it carries the commands' data.
//!
//! Not for: errors (`cli::report`) or data output.

use std::fmt::Display;
use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Nothing (`--quiet`).
    Quiet,
    /// One line per step on stderr (stderr is not a terminal).
    Lines,
    /// A spinner and byte bars redrawn in place (stderr is a terminal).
    Bars {
        /// Whether the bars may be coloured (`NO_COLOR` unset).
        color: bool,
    },
}

impl Style {
    /// The style for this process: quiet, else bars on a terminal, else lines.
    pub fn detect(quiet: bool) -> Style {
        if quiet {
            Style::Quiet
        } else if std::io::stderr().is_terminal() {
            Style::Bars {
                color: std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
            }
        } else {
            Style::Lines
        }
    }
}

/// A command's progress reporter.
#[derive(Debug)]
pub struct Progress {
    style: Style,
    spinner: Option<ProgressBar>,
}

impl Progress {
    /// A reporter for this process (see [`Style::detect`]).
    pub fn new(quiet: bool) -> Progress {
        Progress::with_style(Style::detect(quiet))
    }

    /// A reporter with a chosen style.
    pub fn with_style(style: Style) -> Progress {
        let spinner = match style {
            Style::Bars { color } => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                let template = if color {
                    "{spinner:.cyan} {msg}"
                } else {
                    "{spinner} {msg}"
                };
                bar.set_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            }
            Style::Quiet | Style::Lines => None,
        };
        Progress { style, spinner }
    }

    /// The style in use.
    pub fn style(&self) -> Style {
        self.style
    }

    /// Announces the next phase of the work.
    pub fn step(&self, message: impl Display) {
        match (&self.style, &self.spinner) {
            (Style::Lines, _) => eprintln!("{message}"),
            (Style::Bars { .. }, Some(spinner)) => spinner.set_message(message.to_string()),
            _ => {}
        }
    }

    /// Prints `warning: …` on stderr above any bar; nothing with `--quiet`.
    pub fn warn(&self, message: impl Display) {
        let line = format!("warning: {message}");
        match (&self.style, &self.spinner) {
            (Style::Quiet, _) => {}
            (_, Some(spinner)) => spinner.suspend(|| eprintln!("{line}")),
            (_, None) => eprintln!("{line}"),
        }
    }

    /// Starts counting `total` bytes (0: unknown) for `message`.
    pub fn bytes(&self, message: impl Display, total: u64) -> Transfer {
        match self.style {
            Style::Quiet => Transfer { bar: None },
            Style::Lines => {
                if total > 0 {
                    eprintln!("{message} ({})", indicatif::HumanBytes(total));
                } else {
                    eprintln!("{message}");
                }
                Transfer { bar: None }
            }
            Style::Bars { color } => {
                let bar = ProgressBar::with_draw_target(
                    (total > 0).then_some(total),
                    ProgressDrawTarget::stderr(),
                );
                let template = match (total > 0, color) {
                    (true, true) => {
                        "{msg} {bar:30.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec} {eta}"
                    }
                    (true, false) => "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    (false, _) => "{msg} {bytes} {bytes_per_sec}",
                };
                bar.set_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(message.to_string());
                Transfer { bar: Some(bar) }
            }
        }
    }

    /// Clears the spinner. Called on drop as well.
    pub fn finish(&self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A byte count in progress, from [`Progress::bytes`].
#[derive(Debug)]
pub struct Transfer {
    bar: Option<ProgressBar>,
}

impl Transfer {
    /// Counts `n` more bytes.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Ends the count and removes the bar.
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
