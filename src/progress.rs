//! Progress bars of the long-running commands (generate, import).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `what`, counting to `len` when it is known (a spinner with
/// the rate otherwise); hidden when `show` is false.
pub fn bar(show: bool, what: &'static str, len: Option<u64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::new(n),
            "{msg} {wide_bar} {human_pos}/{human_len} ({per_sec}, {eta} left)",
        ),
        None => (
            ProgressBar::no_length(),
            "{msg} {spinner} {human_pos} ({per_sec})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}
