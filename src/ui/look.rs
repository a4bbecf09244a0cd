//! How the prompts look: dialoguer's colourful theme, with the cursor's row marked by a sign
//! as well as by colour.

use dialoguer::theme::{ColorfulTheme, Theme};

/// dialoguer's colourful look, with the cursor's row marked by a sign as well as by colour
/// (with colour off, or on a monochrome terminal, colour alone shows nothing), and plain
/// `[x]` / `[ ]` boxes when colour is off.
pub(super) struct Look {
    pub(super) inner: ColorfulTheme,
    pub(super) color: bool,
}

impl Theme for Look {
    fn format_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        self.inner.format_prompt(f, prompt)
    }

    fn format_error(&self, f: &mut dyn std::fmt::Write, err: &str) -> std::fmt::Result {
        self.inner.format_error(f, err)
    }

    fn format_confirm_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        default: Option<bool>,
    ) -> std::fmt::Result {
        self.inner.format_confirm_prompt(f, prompt, default)
    }

    fn format_confirm_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        selection: Option<bool>,
    ) -> std::fmt::Result {
        self.inner
            .format_confirm_prompt_selection(f, prompt, selection)
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        default: Option<&str>,
    ) -> std::fmt::Result {
        self.inner.format_input_prompt(f, prompt, default)
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> std::fmt::Result {
        self.inner.format_input_prompt_selection(f, prompt, sel)
    }

    fn format_select_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        self.inner.format_select_prompt(f, prompt)
    }

    fn format_select_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> std::fmt::Result {
        self.inner.format_select_prompt_selection(f, prompt, sel)
    }

    fn format_multi_select_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
    ) -> std::fmt::Result {
        self.inner.format_multi_select_prompt(f, prompt)
    }

    fn format_multi_select_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        selections: &[&str],
    ) -> std::fmt::Result {
        self.inner
            .format_multi_select_prompt_selection(f, prompt, selections)
    }

    fn format_select_prompt_item(
        &self,
        f: &mut dyn std::fmt::Write,
        text: &str,
        active: bool,
    ) -> std::fmt::Result {
        if self.color {
            return self.inner.format_select_prompt_item(f, text, active);
        }
        write!(f, "{} {text}", if active { ">" } else { " " })
    }

    fn format_multi_select_prompt_item(
        &self,
        f: &mut dyn std::fmt::Write,
        text: &str,
        checked: bool,
        active: bool,
    ) -> std::fmt::Result {
        if !self.color {
            return write!(
                f,
                "{} {} {text}",
                if active { ">" } else { " " },
                if checked { "[x]" } else { "[ ]" }
            );
        }
        let theme = &self.inner;
        let cursor = if active {
            &theme.active_item_prefix
        } else {
            &theme.inactive_item_prefix
        };
        let mark = if checked {
            &theme.checked_item_prefix
        } else {
            &theme.unchecked_item_prefix
        };
        let text = if active {
            theme.active_item_style.apply_to(text)
        } else {
            theme.inactive_item_style.apply_to(text)
        };
        write!(f, "{cursor} {mark} {text}")
    }
}
