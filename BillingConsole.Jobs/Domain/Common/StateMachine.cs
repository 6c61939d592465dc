namespace BillingConsole.Domain.Common;

/// <summary>
/// A state machine written as data: the table of allowed (from, event) → to moves.
/// Anything not in the table is illegal and throws.
/// </summary>
public sealed class StateMachine<TState, TEvent>
    where TState : struct, Enum
    where TEvent : struct, Enum
{
    private readonly Dictionary<(TState From, TEvent On), TState> _table;

    public StateMachine(params (TState From, TEvent On, TState To)[] transitions)
    {
        _table = transitions.ToDictionary(t => (t.From, t.On), t => t.To);
        if (_table.Count != transitions.Length)
            throw new ArgumentException("A (state, event) pair appears twice in the transition table.");
    }

    public IEnumerable<(TState From, TEvent On, TState To)> Transitions =>
        _table.Select(entry => (entry.Key.From, entry.Key.On, entry.Value));

    public bool CanFire(TState from, TEvent on) => _table.ContainsKey((from, on));

    public TState Fire(TState from, TEvent on) =>
        _table.TryGetValue((from, on), out var to) ? to : throw new IllegalTransitionException(typeof(TState).Name, from.ToString(), on.ToString());
}

public sealed class IllegalTransitionException(string machine, string from, string on)
    : InvalidOperationException($"{machine}: '{on}' is not allowed from '{from}'.")
{
    public string Machine { get; } = machine;
    public string From { get; } = from;
    public string On { get; } = on;
}

/// <summary>A business rule was broken by the caller's input; the message is meant for a person.</summary>
public sealed class DomainRuleException(string message) : InvalidOperationException(message);
