//! Drafts: what someone types into a form is kept in the browser (`localStorage`, under `key`)
//! until the form's action succeeds, so a session that ends mid-step — sign in again, come back —
//! or a closed tab loses nothing. On return the draft is put back into the form (with an `input`
//! event per field, so the page's own handlers see it), with a notice and a way to drop it.
//!
//! Text fields, text areas, selects and radio buttons are kept; hidden, file, password and
//! checkbox inputs (confirmations) never are.

use leptos::prelude::*;

use crate::error::ApiError;

/// Wraps a step's forms: keeps their typing under `key` until `done` holds a success.
#[component]
pub fn Draft<T>(
    key: String,
    done: Signal<Option<Result<T, ApiError>>>,
    children: Children,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let area = NodeRef::<leptos::html::Div>::new();
    let restored = RwSignal::new(false);
    let storage_key = format!("lambdaport.draft.{key}");
    {
        let storage_key = storage_key.clone();
        Effect::new(move |_| {
            if let Some(Ok(_)) = done.get() {
                browser::forget(&storage_key);
                restored.set(false);
            }
        });
    }
    {
        let storage_key = storage_key.clone();
        Effect::new(move |_| {
            if let Some(area) = area.get() {
                restored.set(browser::restore(&area, &storage_key));
            }
        });
    }
    let keep = {
        let storage_key = storage_key.clone();
        move |ev: leptos::ev::Event| browser::keep(&ev, &storage_key)
    };
    // An upload replaces what was typed: its draft goes with it.
    let upload = {
        let storage_key = storage_key.clone();
        move |ev: leptos::ev::SubmitEvent| browser::forget_on_upload(&ev, &storage_key)
    };
    let drop_draft = move |_: leptos::ev::MouseEvent| {
        browser::forget(&storage_key);
        restored.set(false);
        // The server's values again.
        let _ = window().location().reload();
    };
    view! {
        {move || restored.get().then(|| {
            let drop_draft = drop_draft.clone();
            view! {
            <div class="alert" role="status" data-testid="draft-restored">
                "What you typed before is back (it was not saved yet). "
                <button type="button" class="btn btn-small" on:click=drop_draft>"Discard it"</button>
            </div>
            }
        })}
        <div node_ref=area on:input=keep.clone() on:change=keep on:submit=upload>{children()}</div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::wasm_bindgen::JsCast as _;
    use leptos::web_sys::{
        Element, Event, EventInit, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement,
        Storage,
    };
    use serde_json::{Map, Value};

    fn storage() -> Option<Storage> {
        leptos::prelude::window().local_storage().ok().flatten()
    }

    fn read(key: &str) -> Map<String, Value> {
        storage()
            .and_then(|s| s.get_item(key).ok().flatten())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// The field's name and value, if it is one a draft keeps.
    fn field(target: &Element) -> Option<(String, String)> {
        if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
            let kind = input.type_();
            if matches!(kind.as_str(), "hidden" | "file" | "password" | "checkbox" | "submit") {
                return None;
            }
            if kind == "radio" && !input.checked() {
                return None;
            }
            return Some((input.name(), input.value()));
        }
        if let Some(area) = target.dyn_ref::<HtmlTextAreaElement>() {
            return Some((area.name(), area.value()));
        }
        target.dyn_ref::<HtmlSelectElement>().map(|select| (select.name(), select.value()))
    }

    /// Keeps the field an `input` or `change` event came from.
    pub fn keep(ev: &leptos::ev::Event, key: &str) {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        let Some((name, value)) = field(&target).filter(|(name, _)| !name.is_empty()) else {
            return;
        };
        let mut draft = read(key);
        draft.insert(name, Value::String(value));
        if let Some(storage) = storage() {
            let _ = storage.set_item(key, &Value::Object(draft).to_string());
        }
    }

    /// Puts a kept draft back into the fields under `area`; whether there was one that differed.
    pub fn restore(area: &Element, key: &str) -> bool {
        let draft = read(key);
        if draft.is_empty() {
            return false;
        }
        let Ok(fields) = area.query_selector_all("input[name], textarea[name], select[name]")
        else {
            return false;
        };
        let mut changed = false;
        for n in 0..fields.length() {
            let Some(element) = fields.item(n).and_then(|f| f.dyn_into::<Element>().ok()) else {
                continue;
            };
            let name = element.get_attribute("name").unwrap_or_default();
            let Some(Value::String(kept)) = draft.get(&name) else { continue };
            let updated = if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
                match input.type_().as_str() {
                    "hidden" | "file" | "password" | "checkbox" | "submit" => false,
                    "radio" => {
                        let on = input.value() == *kept;
                        let flipped = input.checked() != on;
                        input.set_checked(on);
                        flipped && on
                    }
                    _ => {
                        let differs = input.value() != *kept;
                        input.set_value(kept);
                        differs
                    }
                }
            } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
                let differs = area.value() != *kept;
                area.set_value(kept);
                differs
            } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
                let differs = select.value() != *kept;
                select.set_value(kept);
                differs
            } else {
                false
            };
            if updated {
                changed = true;
                // The page's handlers (validation, the editor's highlighting) see the value.
                let init = EventInit::new();
                init.set_bubbles(true);
                for kind in ["input", "change"] {
                    if let Ok(event) = Event::new_with_event_init_dict(kind, &init) {
                        let _ = element.dispatch_event(&event);
                    }
                }
            }
        }
        changed
    }

    pub fn forget(key: &str) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(key);
        }
    }

    /// Forgets the draft when the form submitted is an upload (its file replaces the text).
    pub fn forget_on_upload(ev: &leptos::ev::SubmitEvent, key: &str) {
        let form = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
        if form.is_some_and(|f| f.enctype() == "multipart/form-data") {
            forget(key);
        }
    }
}

/// On the server there is no browser storage: nothing is kept or restored.
#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn keep(_: &leptos::ev::Event, _: &str) {}

    pub fn restore(_: &leptos::web_sys::Element, _: &str) -> bool {
        false
    }

    pub fn forget(_: &str) {}

    pub fn forget_on_upload(_: &leptos::ev::SubmitEvent, _: &str) {}
}
