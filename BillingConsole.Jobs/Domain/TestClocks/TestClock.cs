using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.TestClocks;

/// <summary>
/// Simulated time for a set of test customers: the engine acts on the customers on the clock as of <see cref="FrozenTime"/>,
/// which moves only forward, and only when an admin advances it.
/// </summary>
public sealed class TestClock : Entity
{
    public const int MaxNameLength = 100;

    private TestClock() { }

    public TestClock(string name, DateTimeOffset startTime, string createdBy, DateTimeOffset createdAt)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new DomainRuleException("Give the test clock a name.");
        if (name.Trim().Length > MaxNameLength) throw new DomainRuleException($"A test clock's name has at most {MaxNameLength} characters.");
        Name = name.Trim();
        FrozenTime = startTime.ToUniversalTime();
        CreatedBy = createdBy;
        CreatedAt = createdAt;
    }

    public string Name { get; private set; } = string.Empty;
    /// <summary>The clock's "now": what the engine reads as the current time for the customers on it.</summary>
    public DateTimeOffset FrozenTime { get; private set; }
    public string CreatedBy { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Moves the clock to <paramref name="time"/>; a clock never goes back.</summary>
    public void MoveTo(DateTimeOffset time)
    {
        if (time < FrozenTime) throw new DomainRuleException($"A test clock only moves forward: it is at {FrozenTime:yyyy-MM-dd HH:mm} UTC already.");
        FrozenTime = time.ToUniversalTime();
    }
}
