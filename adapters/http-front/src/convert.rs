//! The front's generated contract types to and from cto-contract's plain
//! ones, so the front reads and writes the contract's JSON by the same
//! rules as cto-host.

use crate::wit;

cto_contract::conversions!(wit);
