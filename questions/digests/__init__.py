"""The weekly digest (SPEC §2.7): drafted at the week's close, curated by that week's
moderator (or an organiser), published to the archive, e-mailed to every member who has not
turned it off, and followed by a private Atom feed."""
