"""My work (我的工作): the officer's home page, and the same per officer and per district for admins."""
