//! EventSource against local servers.
