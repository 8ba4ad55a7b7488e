"""Generated demonstration records (offers, recruiters, extra formations at national scale), always flagged demo."""
