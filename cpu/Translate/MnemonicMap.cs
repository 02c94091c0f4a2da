using Iced.Intel;
using LegoEmu.Cpu.Interp;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// A table from mnemonic to an emitter's entry, indexed by the mnemonic's number. A Dictionary keyed by Iced's
/// Mnemonic is a generic instantiation over another assembly's enum that ReadyToRun does not precompile: its first
/// lookups made the runtime JIT the dictionary's methods and an enum comparer on the compiler's thread, part of the
/// 10-20 ms the first region of a process waited for.
/// </summary>
sealed class MnemonicMap<T> where T : class
{
    readonly T?[] _entries = new T?[HandlerTable.MnemonicCount];

    public T? this[Mnemonic m]
    {
        get => (uint)m < (uint)_entries.Length ? _entries[(int)m] : null;
        set => _entries[(int)m] = value;
    }

    public bool TryGetValue(Mnemonic m, out T value)
    {
        value = this[m]!;
        return value != null;
    }

    public bool ContainsKey(Mnemonic m) => this[m] != null;
}
