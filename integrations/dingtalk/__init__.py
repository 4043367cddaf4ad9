"""DingTalk: approvals of adjustment proposals, work notifications and the group robot,
and the org chart from DingTalk contacts."""
