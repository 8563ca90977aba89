"""ringcast's composition root: settings, errors shared by every package, and `bootstrap`.

The domain packages (`campaigns`, `dialer`, `sms`, `imports`, `reports`) never read the
environment themselves; they receive what they need from here.
"""
