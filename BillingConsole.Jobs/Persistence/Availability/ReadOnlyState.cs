namespace BillingConsole.Persistence.Availability;

/// <summary>
/// Whether this node is read-only because it lost its database, why, and since when. One per process: the monitor sets
/// it, and everything that writes (commands, API, webhooks, jobs) and everything that shows it (banner, health) reads it.
/// </summary>
public sealed class ReadOnlyState
{
    private readonly Lock _lock = new();
    private Status? _current;

    /// <summary>Raised after the state changes, on the thread that changed it.</summary>
    public event Action? Changed;

    public bool IsReadOnly => Current is not null;

    /// <summary>Why and since when, or null while writable.</summary>
    public Status? Current
    {
        get { lock (_lock) return _current; }
    }

    /// <summary>The sentence shown to whoever tried to change something while read-only.</summary>
    public string Explanation => Current?.Explanation ?? string.Empty;

    /// <returns>True when this call made the state read-only (it was writable before).</returns>
    public bool Enter(string reason, DateTimeOffset since)
    {
        lock (_lock)
        {
            if (_current is not null) return false;
            _current = new Status(reason, since);
        }
        Changed?.Invoke();
        return true;
    }

    /// <returns>True when this call made the state writable again.</returns>
    public bool Leave()
    {
        lock (_lock)
        {
            if (_current is null) return false;
            _current = null;
        }
        Changed?.Invoke();
        return true;
    }

    /// <summary>Throws <see cref="ReadOnlyException"/> while read-only.</summary>
    public void EnsureWritable()
    {
        if (Current is { } status) throw new ReadOnlyException(status.Explanation);
    }

    public sealed record Status(string Reason, DateTimeOffset Since)
    {
        public string Explanation =>
            $"BillingConsole is read-only since {Since.UtcDateTime:HH:mm:ss} UTC because {Reason}: nothing was changed, and changes are possible again as soon as it is back.";
    }
}

/// <summary>A write was refused because the node is read-only. The message is the sentence to show.</summary>
public sealed class ReadOnlyException(string message) : InvalidOperationException(message);
