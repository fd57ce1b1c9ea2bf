"""Plain models and rules of the notifier: which e-mails a message causes, sent once. No I/O."""
