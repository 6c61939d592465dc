namespace BillingConsole.Configuration;

/// <summary>The application cannot start as configured. The message is one sentence naming the setting to fix.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
