// Example: share your own class through a manager; its methods become async, its errors come back by name.
import * as mp from 'multiprocessing-ts';

export class InsufficientFunds extends Error {}

/** Lives in the manager's server; every method call runs there, one at a time. */
export class Account {
  #balance = 0;
  deposit(amount: number): number {
    this.#balance += amount;
    return this.#balance;
  }
  withdraw(amount: number): number {
    if (amount > this.#balance)
      throw new InsufficientFunds(`cannot withdraw ${amount}: balance is ${this.#balance}`);
    this.#balance -= amount;
    return this.#balance;
  }
  balance(): number {
    return this.#balance;
  }
}

export class BankManager extends mp.BaseManager {
  declare Account: () => Promise<mp.AutoProxy<Account>>;
}
// Runs in every process that imports this module, the server included: it must see the type.
BankManager.register('Account', Account);

export async function depositMany(account: mp.AutoProxy<Account>, times: number): Promise<void> {
  // Each deposit is one call, atomic in the server: no lock needed.
  for (let i = 0; i < times; i++) await account.deposit(1);
}

if (mp.isMainProcess()) {
  await using manager = new BankManager({ context: mp.getContext('process') });
  await manager.start();
  const account = await manager.Account();
  const tellers = [1, 2, 3, 4].map(
    () => new mp.Process({ target: depositMany, args: [account, 25] }),
  );
  for (const p of tellers) p.start();
  for (const p of tellers) await p.join();
  console.log('balance after 4 x 25 deposits:', await account.balance());
  try {
    await account.withdraw(1000);
  } catch (error) {
    // The server's error arrives with its class name, message, and the server's stack as cause.
    // (Defined in a module other than the program's entry, it is rebuilt as that very class.)
    console.log(`${(error as Error).name}: ${(error as Error).message}`);
  }
}
