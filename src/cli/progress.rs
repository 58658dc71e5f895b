//! Progress reports on stderr for both binaries: a spinner for the current step and one byte
//! bar per kind of work (downloading, installing, compressing, pushing, pulling, comparing) with
//! counts, rate and a percentage where the total is known, redrawn in place when stderr is a
//! terminal; plain lines otherwise; nothing with `--quiet`.
//!
//! Use: `let progress = Progress::new(args.quiet);`, then `progress.step("resolving …")` before
//! each phase, `progress.warn(…)` for warnings (above any bar; silenced with `--quiet` like
//! every other line that is not the command's result), and `progress.finish()` (also done on
//! drop). Byte counts come from the library through the [`crate::progress`] facade: while a
//! `Progress` lives, its reporter ([`board::Board`]) is the installed one. Colour is used only on
//! a terminal and never when `NO_COLOR` is set (no-color.org). Standard output is never
//! touched: it carries the commands' data.
//!
//! Not for: errors (`cli::report`), data output, or what is counted (`crate::progress`).

use std::fmt::Display;
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

mod board;

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
    board: Option<Arc<board::Board>>,
    installed: Option<crate::progress::Installed>,
    finished: std::sync::atomic::AtomicBool,
}

impl Progress {
    /// A reporter for this process (see [`Style::detect`]).
    pub fn new(quiet: bool) -> Progress {
        Progress::with_style(Style::detect(quiet))
    }

    /// A reporter with a chosen style; unless quiet, it receives the library's byte counts
    /// until it is dropped.
    pub fn with_style(style: Style) -> Progress {
        let multi = match style {
            Style::Bars { .. } => {
                Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
            }
            Style::Quiet | Style::Lines => None,
        };
        let spinner = match (style, &multi) {
            (Style::Bars { color }, Some(multi)) => {
                let bar = multi.add(ProgressBar::new_spinner());
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
            _ => None,
        };
        let board = match style {
            Style::Quiet => None,
            Style::Lines | Style::Bars { .. } => Some(Arc::new(board::Board::new(style, multi))),
        };
        let installed = board
            .clone()
            .map(|board| crate::progress::install(board as Arc<dyn crate::progress::Reporter>));
        Progress {
            style,
            spinner,
            board,
            installed,
            finished: std::sync::atomic::AtomicBool::new(false),
        }
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
        match (&self.style, &self.board) {
            (Style::Quiet, _) => {}
            (_, Some(board)) => board.println(&line),
            (_, None) => eprintln!("{line}"),
        }
    }

    /// Sums up every byte count and clears the spinner. Called on drop as well; only the
    /// first call draws (a later redraw would move over what the command printed since).
    pub fn finish(&self) {
        if self
            .finished
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        if let Some(board) = &self.board {
            board.close();
        }
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
        // Back to the reporter before this one (none, for a command run once).
        self.installed.take();
    }
}
