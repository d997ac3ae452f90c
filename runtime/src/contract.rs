//! The bindings' [`api`] types to and from cto-contract's plain ones, so
//! the host reads and writes the contract's JSON by cto-contract's rules.

use crate::bindings::api;
use cto_contract::TaskState;

cto_contract::conversions!(api);

impl api::TaskState {
    /// The contract's one spelling ([`TaskState::name`]).
    pub fn name(self) -> &'static str {
        TaskState::from(self).name()
    }

    /// A state name by the contract's one reading rule ([`TaskState::read`]).
    pub fn read(text: &str) -> Option<Self> {
        TaskState::read(text).map(Self::from)
    }
}
