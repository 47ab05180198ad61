//! Where an execution environment's log lines go. Every line is kept in the environment's recent
//! output, which Invoke's `LogType: Tail` returns (Lambda returns the tail whatever the role may
//! do). A line reaches CloudWatch Logs only as far as the function's execution role allows, as on
//! AWS: without `logs:PutLogEvents` nothing is written; without `logs:CreateLogGroup` (or
//! `logs:CreateLogStream`) nothing is written until the group (or stream) exists. The role is
//! read again when it has changed, at the start of each invoke.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::iam::Iam;
use crate::logs::{LogAccess, LogStore};

/// The most recent output an environment keeps for Invoke's tail (which returns the last 4 KB).
const RECENT_BYTES: usize = 8 * 1024;

/// One environment's output: its log group and stream, and what its role may write there.
#[derive(Debug)]
pub struct Output {
    logs: Arc<LogStore>,
    pub group: String,
    pub stream: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// What the role may write, as read at IAM generation `read_at` (`None`: not read yet).
    access: LogAccess,
    read_at: Option<u64>,
    recent: Recent,
}

#[derive(Debug, Default)]
struct Recent {
    /// Lines ever written; the first kept line is number `total - lines.len()`.
    total: usize,
    lines: VecDeque<String>,
    bytes: usize,
}

impl Output {
    /// Output to `group`/`stream` that may write nothing until [`Output::refresh`] reads the role.
    pub fn new(logs: Arc<LogStore>, group: String, stream: String) -> Self {
        Self { logs, group, stream, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads what `role_arn` may do with these logs, if roles changed since it was last read.
    pub async fn refresh(&self, iam: &Iam, role_arn: &str, region: &str) {
        let generation = iam.generation();
        if self.state().read_at == Some(generation) {
            return;
        }
        let access = iam.log_access(role_arn, region, &self.group, &self.stream).await;
        let mut state = self.state();
        state.access = access;
        state.read_at = Some(generation);
    }

    /// Writes one line: to the recent output, and to the log stream if the role may.
    pub fn line(&self, message: String) {
        let access = {
            let mut state = self.state();
            let recent = &mut state.recent;
            recent.total += 1;
            recent.bytes += message.len();
            recent.lines.push_back(message.clone());
            while recent.bytes > RECENT_BYTES && recent.lines.len() > 1 {
                let dropped = recent.lines.pop_front().map_or(0, |l| l.len());
                recent.bytes -= dropped;
            }
            state.access
        };
        self.logs.append_as(access, &self.group, &self.stream, message);
    }

    /// A mark to read the output written after it with [`Output::since`].
    pub fn mark(&self) -> usize {
        self.state().recent.total
    }

    /// The kept lines written since `mark`, oldest first.
    pub fn since(&self, mark: usize) -> Vec<String> {
        let state = self.state();
        let recent = &state.recent;
        let first_kept = recent.total - recent.lines.len();
        recent.lines.iter().skip(mark.saturating_sub(first_kept)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_output_keeps_the_newest_lines_whatever_the_role_may_write() {
        let logs = Arc::new(LogStore::default());
        let output = Output::new(logs.clone(), "/aws/lambda/f".into(), "s".into());
        output.line("before".into());
        let mark = output.mark();
        output.line("one".into());
        output.line("two".into());
        assert_eq!(output.since(mark), ["one", "two"]);
        assert!(logs.lock().is_empty(), "a role not yet read writes no logs");

        let long = "x".repeat(RECENT_BYTES / 2);
        for _ in 0..3 {
            output.line(long.clone());
        }
        let kept = output.since(0);
        assert!(kept.len() < 5 && kept.iter().all(|l| *l == long), "oldest lines go first");
    }
}
