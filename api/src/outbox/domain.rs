//! The vocabulary of delivery.
use crate::http::api_enum::api_enum;

api_enum!(
    /// Where a message on its way out stands.
    DeliveryStatus {
        /// Waiting for a worker (first attempt or a retry).
        Queued => "queued",
        /// Held by a worker that is delivering it.
        Sending => "sending",
        /// Accepted by the channel's provider (the SMTP relay, the messenger's API).
        Sent => "sent",
        /// The provider reported it delivered.
        Delivered => "delivered",
        /// The provider reported it read.
        Read => "read",
        /// It cannot be delivered (no address, no channel, refused for good); `reason` says why.
        Failed => "failed",
        /// Every attempt failed; kept with the last error until an admin retries it.
        Dead => "dead",
    }
);
