using BillingConsole.Domain.Common;

namespace BillingConsole.Tests.Domain;

/// <summary>
/// Every (state, event) pair of one state machine, driven through the entity's own methods: the pair either moves to the
/// state the expected matrix names, or throws <see cref="IllegalTransitionException"/> and leaves the state alone.
/// </summary>
public abstract class TransitionTableTests<TEntity, TState, TEvent>
    where TState : struct, Enum
    where TEvent : struct, Enum
{
    public static TheoryData<TState, TEvent> AllPairs()
    {
        var pairs = new TheoryData<TState, TEvent>();
        foreach (var state in Enum.GetValues<TState>())
            foreach (var on in Enum.GetValues<TEvent>())
                pairs.Add(state, on);
        return pairs;
    }

    protected abstract StateMachine<TState, TEvent> Machine { get; }

    /// <summary>The specification, written out in the test rather than read from the domain's table.</summary>
    protected abstract IReadOnlyDictionary<(TState From, TEvent On), TState> Expected { get; }

    /// <summary>A fresh entity brought into <paramref name="state"/> through its public methods.</summary>
    protected abstract TEntity InState(TState state);

    protected abstract void Fire(TEntity entity, TEvent on);

    protected abstract TState StateOf(TEntity entity);

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Each_event_in_each_state_moves_as_the_matrix_says_or_throws(TState from, TEvent on)
    {
        var entity = InState(from);
        Assert.Equal(from, StateOf(entity));

        if (Expected.TryGetValue((from, on), out var to))
        {
            Fire(entity, on);
            Assert.Equal(to, StateOf(entity));
            Assert.Equal(to, Machine.Fire(from, on));
        }
        else
        {
            var error = Assert.Throws<IllegalTransitionException>(() => Fire(entity, on));
            Assert.Equal((from.ToString(), on.ToString()), (error.From, error.On));
            Assert.Equal(from, StateOf(entity));
            Assert.False(Machine.CanFire(from, on));
        }
    }

    [Fact]
    public void The_domain_table_has_no_transition_the_matrix_lacks() =>
        Assert.Equal(
            Expected.OrderBy(t => t.Key.From).ThenBy(t => t.Key.On).Select(t => (t.Key.From, t.Key.On, t.Value)),
            Machine.Transitions.OrderBy(t => t.From).ThenBy(t => t.On));

    /// <summary>
    /// Reads a matrix with one row per state and one cell per event, in the events' declaration order; null marks an
    /// illegal pair. Every state must have exactly one row.
    /// </summary>
    protected static IReadOnlyDictionary<(TState From, TEvent On), TState> Matrix(params (TState From, TState?[] To)[] rows)
    {
        var events = Enum.GetValues<TEvent>();
        Assert.Equal(Enum.GetValues<TState>().Order(), rows.Select(r => r.From).Order());
        var table = new Dictionary<(TState, TEvent), TState>();
        foreach (var (from, cells) in rows)
        {
            Assert.Equal(events.Length, cells.Length);
            for (var i = 0; i < events.Length; i++)
                if (cells[i] is { } to) table[(from, events[i])] = to;
        }
        return table;
    }
}
