//! A server-sent event stream a page listens to (the live tail, the URL tester's answer as it
//! arrives), closed when dropped.

use leptos::prelude::*;

/// An open `EventSource`.
#[derive(Debug)]
pub struct EventStream {
    #[cfg(feature = "hydrate")]
    events: web_sys::EventSource,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        #[cfg(feature = "hydrate")]
        self.events.close();
    }
}

impl EventStream {
    /// Where a page keeps its open stream: local to the browser's one thread there (an
    /// EventSource is not `Send`); on the server, where nothing is ever opened, a plain value,
    /// since the page's owner may be disposed on another thread than the one that rendered it.
    #[cfg(feature = "hydrate")]
    pub fn cell() -> StoredValue<Option<EventStream>, LocalStorage> {
        StoredValue::new_local(None)
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn cell() -> StoredValue<Option<EventStream>> {
        StoredValue::new(None)
    }

    /// Opens the stream at `url` and calls `on(name, data)` for each event named in `names`
    /// (`open` and `error` are the connection's own, with no data).
    #[cfg(feature = "hydrate")]
    pub fn open(
        url: &str,
        names: &[&'static str],
        on: impl Fn(&'static str, String) + 'static,
    ) -> Result<Self, String> {
        use leptos::wasm_bindgen::JsCast;
        use leptos::wasm_bindgen::closure::Closure;
        let events = web_sys::EventSource::new(url).map_err(|e| format!("{e:?}"))?;
        let on = std::rc::Rc::new(on);
        for name in names {
            let on = on.clone();
            let name: &'static str = name;
            let handler = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
                let data = e
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|m| m.data().as_string())
                    .unwrap_or_default();
                on(name, data);
            });
            events
                .add_event_listener_with_callback(name, handler.as_ref().unchecked_ref())
                .map_err(|e| format!("{e:?}"))?;
            // The page lives as long as the listeners may be called.
            handler.forget();
        }
        Ok(Self { events })
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn open(
        _url: &str,
        _names: &[&'static str],
        _on: impl Fn(&'static str, String) + 'static,
    ) -> Result<Self, String> {
        Err("event streams run in the browser".to_owned())
    }
}
